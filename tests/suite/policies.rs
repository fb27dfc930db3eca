//! Resilience policies end to end, through the engine: retries (attempts, backoff, what is
//! retried, where retries go, the worker they hold), retry budgets (Envoy and the gRPC token
//! bucket), circuit breakers, bulkheads and fallbacks.
//!
//! The state machines are unit-tested in `src/call`; these tests check how the engine drives
//! them. Most models are deterministic (`Constant` arrivals, `Const` times, error
//! probabilities of 0 or 1, error bursts with a fixed window), so counts and times are exact
//! and worked out by hand in each test's comments. `Constant(per_second: r)` puts the first
//! arrival at 1/r; a profile point `(at: T, per_second: 0)` ends the stream after the arrival
//! at T. Fault windows are placed between arrivals so that no result depends on how events at
//! the same instant are ordered.

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

/// An answer to entry point 0 at `time_ms` after `latency_ms`.
fn record(time_ms: f64, outcome: Outcome, latency_ms: f64) -> TraceRecord {
    TraceRecord {
        time: SimTime(ns(time_ms)),
        entry: 0,
        outcome,
        latency: SimDuration(ns(latency_ms)),
    }
}

// ---- retries -----------------------------------------------------------------------------

/// `attempts` counts the first call (resilience4j `maxAttempts`): 3 attempts against a callee
/// that always errs are exactly 1 call + 2 retries, so the callee sees 3 requests per call,
/// the amplification is 3.0, and every call still ends `error`.
#[test]
fn attempts_count_the_first_call() {
    let (r, _) = run(r#"Topology(
        run: (duration: "2s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [(at: "1s", per_second: 0)]))],
        services: {
            "api": (workers: 4, steps: [Call(to: "s", retry: (attempts: 3))]),
            "s": (workers: 4, work: Const("1ms"), errors: 1.0),
        },
    )"#);
    let e = &r.entries[0];
    assert_eq!(
        (e.offered, e.outcomes.error, e.outcomes.total()),
        (100, 100, 100)
    );
    let c = &r.calls[0];
    assert_eq!(
        (c.calls, c.attempts, c.retries, c.retries_denied),
        (100, 300, 200, 0)
    );
    assert_exact("amplification", c.amplification, 3.0);
    assert_eq!((c.outcomes.error, c.in_flight), (100, 0));
    let s = r.service("s").unwrap();
    assert_eq!((s.arrivals, s.outcomes.error), (300, 300));
    // The time series count the same calls and attempts.
    let series_attempts: u64 = r.series.calls[0].attempts.iter().sum();
    let series_calls: u64 = r.series.calls[0].calls.iter().sum();
    assert_eq!((series_calls, series_attempts), (100, 300));
}

/// Exact backoff with `Const` times and no jitter. Each attempt takes 1 ms out, 2 ms of work
/// and 1 ms back (4 ms); the exponential schedule base 10 ms, ×2, capped at 15 ms sleeps
/// 10, 15 (20 capped), 15 ms before retries 1, 2, 3. With 4 attempts that all fail the call
/// lasts 4 × 4 + 10 + 15 + 15 = 56 ms: the request sent at 10 ms is answered at 66 ms.
#[test]
fn exponential_backoff_timing_is_exact() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [(at: "10ms", per_second: 0)]))],
        services: {
            "api": (steps: [Call(to: "s", latency: Const("1ms"),
                retry: (attempts: 4, jitter: None,
                        backoff: Exponential(base: "10ms", max: "15ms", multiplier: 2)))]),
            "s": (work: Const("2ms"), errors: 1.0),
        },
    )"#);
    assert_eq!(trace, [record(66.0, Outcome::Error, 56.0)]);
    let c = &r.calls[0];
    assert_eq!((c.calls, c.attempts, c.retries), (1, 4, 3));
    assert_exact("call latency", c.latency.max_ms, 56.0);
    assert_exact(
        "callee latency",
        r.service("s").unwrap().latency.max_ms,
        2.0,
    );
}

/// A retry that succeeds ends the call `ok`. An error burst on the callee covers [0, 30 ms):
/// attempt 1 (sent 10, done 13, back 14) and attempt 2 (after 10 ms: sent 24, done 27, back
/// 28) fail; attempt 3 (after 15 ms: sent 43, done 46, after the burst) succeeds and is back
/// at 47 ms. The call took 37 ms and 3 attempts; the fourth allowed attempt is not made.
#[test]
fn a_retry_after_the_failure_ends_ok() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 100, profile: [(at: "10ms", per_second: 0)]))],
        services: {
            "api": (steps: [Call(to: "s", latency: Const("1ms"),
                retry: (attempts: 4,
                        backoff: Exponential(base: "10ms", max: "15ms", multiplier: 2)))]),
            "s": (work: Const("2ms")),
        },
        faults: [(at: "0ms", lasts: "30ms", fault: ErrorBurst(service: "s", errors: 1.0))],
    )"#);
    assert_eq!(trace, [record(47.0, Outcome::Ok, 37.0)]);
    let c = &r.calls[0];
    assert_eq!((c.attempts, c.retries, c.outcomes.ok), (3, 2, 1));
    let s = r.service("s").unwrap();
    assert_eq!((s.outcomes.error, s.outcomes.ok), (2, 1));
}

/// `retry.on` is the list of retried outcomes. A callee slower (50 ms) than the call's timeout
/// (10 ms): with `on: [Error]` a timeout is not retried (1 attempt, the call ends `timeout`
/// after 10 ms); with the default list (`Error, Timeout, Unavailable`) the same call makes 3
/// attempts and ends `timeout` after 3 × 10 ms.
#[test]
fn retry_on_lists_the_retried_outcomes() {
    let text = |on: &str| {
        format!(
            r#"Topology(
            run: (duration: "1s"),
            workload: [(name: "main", entry: "api",
                        arrivals: Constant(per_second: 100, profile: [(at: "10ms", per_second: 0)]))],
            services: {{
                "api": (steps: [Call(to: "s", timeout: "10ms", retry: (attempts: 3{on}))]),
                "s": (workers: 10, work: Const("50ms")),
            }},
        )"#
        )
    };
    let (only_errors, trace) = run(&text(", on: [Error]"));
    assert_eq!(trace, [record(20.0, Outcome::Timeout, 10.0)]);
    let c = &only_errors.calls[0];
    assert_eq!((c.attempts, c.retries, c.outcomes.timeout), (1, 0, 1));

    let (default_on, trace) = run(&text(""));
    assert_eq!(trace, [record(40.0, Outcome::Timeout, 30.0)]);
    let c = &default_on.calls[0];
    assert_eq!((c.attempts, c.retries, c.outcomes.timeout), (3, 2, 1));
    // The callee finished all three attempts for nobody (orphaned work).
    assert_eq!(default_on.service("s").unwrap().orphaned, 3);
}

/// `other_replica` sends a retry to another replica (Envoy `previous_hosts`). Replica 0 of the
/// callee fails everything (an error burst on 1 replica of 2) and the balancer,
/// `LeastOutstanding`, sends every first attempt to replica 0 (both idle, lowest index wins).
/// With `other_replica: true` the retry goes to replica 1 and every call succeeds; with
/// `false` the balancer picks replica 0 again and every call fails, after 2 attempts each.
#[test]
fn other_replica_sends_the_retry_elsewhere() {
    let text = |other: bool| {
        format!(
            r#"Topology(
            run: (duration: "2s"),
            workload: [(name: "main", entry: "api",
                        arrivals: Constant(per_second: 100, profile: [(at: "1s", per_second: 0)]))],
            services: {{
                "api": (steps: [Call(to: "s", retry: (attempts: 2, other_replica: {other}))]),
                "s": (replicas: 2, work: Const("1ms"), balancer: LeastOutstanding),
            }},
            faults: [(at: "0ms", lasts: "1h", fault: ErrorBurst(service: "s", errors: 1.0, replicas: 1))],
        )"#
        )
    };
    let (elsewhere, _) = run(&text(true));
    let c = &elsewhere.calls[0];
    assert_eq!((c.calls, c.attempts, c.outcomes.ok), (100, 200, 100));
    assert_eq!(elsewhere.entries[0].outcomes.ok, 100);
    let (same, _) = run(&text(false));
    let c = &same.calls[0];
    assert_eq!((c.calls, c.attempts, c.outcomes.error), (100, 200, 100));
}

/// Retries hold the caller's worker through every attempt and backoff sleep. One worker at
/// the caller; 3 attempts of 1 ms against a callee that always errs, 5 ms apart. Request 1
/// (at 1 ms) tries at 1, 7 and 13 ms and is answered at 14 ms; request 2 (at 2 ms) waits for
/// the worker until 14 ms, tries at 14, 20 and 26 ms and is answered at 27 ms.
#[test]
fn retries_hold_the_callers_worker() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "50ms"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "2ms", per_second: 0)]))],
        services: {
            "api": (workers: 1, steps: [Call(to: "s",
                retry: (attempts: 3, backoff: Constant("5ms")))]),
            "s": (workers: 2, work: Const("1ms"), errors: 1.0),
        },
    )"#);
    assert_eq!(
        trace,
        [
            record(14.0, Outcome::Error, 13.0),
            record(27.0, Outcome::Error, 25.0)
        ]
    );
    let api = r.service("api").unwrap();
    // Request 2 waited 2–14 ms; the worker was busy 1–27 ms.
    assert_exact("api mean queue", api.mean_queue, 12.0 / 50.0);
    assert_exact("api utilization", api.utilization, 26.0 / 50.0);
    // The callee never had two requests at once, although it had two workers.
    assert_exact(
        "s busy",
        r.service("s").unwrap().mean_busy_workers,
        6.0 / 50.0,
    );
}

/// Retries against independent errors: with per-attempt success a = 0.7 and k = 3 attempts,
/// a call succeeds with probability 1 − (1 − a)^k = 0.973 and makes (1 − (1 − a)^k)/a = 1.39
/// attempts on average (docs/semantics.md, *Availability*). The simulated availability and
/// amplification match (10 replications, tolerance from their spread), and the analysis
/// reports exactly that availability. Without the retry the same model gives 0.7, far outside
/// the tolerance.
#[test]
fn retry_availability_matches_independent_attempts() {
    let text = |retry: &str| {
        format!(
            r#"Topology(
            workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 1000))],
            services: {{
                "api": (workers: 1000, steps: [Call(to: "s"{retry})]),
                "s": (workers: 1000, errors: 0.3),
            }},
        )"#
        )
    };
    let m = model(&text(", retry: (attempts: 3)"));
    let expected = 1.0 - 0.3f64.powi(3);
    let reports = replicate(&m, &opts(10.0, 0.0));
    let avail: Vec<f64> = reports.iter().map(|r| r.entries[0].availability).collect();
    assert_matches("availability with 3 attempts", &avail, expected, 0.0, 0.01);
    let amp: Vec<f64> = reports.iter().map(|r| r.calls[0].amplification).collect();
    assert_matches("amplification", &amp, expected / 0.7, 0.0, 0.01);
    let analysis = &reports[0].analysis.entries[0];
    assert_exact("analysis availability", analysis.availability, expected);

    let plain = model(&text(""));
    assert_exact(
        "analysis availability without retries",
        plain.analyze().entries[0].availability,
        0.7,
    );
    let r = plain.run(&opts(5.0, 0.0)).unwrap();
    assert!(
        (r.entries[0].availability - 0.7).abs() < 0.02,
        "without retries: {}",
        r.entries[0].availability
    );
}

// ---- budgets -----------------------------------------------------------------------------

/// An Envoy budget with `min_concurrency: 1` and `percent: 1` allows one retry in flight at
/// a time while fewer than 200 calls are active (⌊1 % × active⌋ = 0 < 1). Calls start every
/// 1 ms (1,000 of them), the callee always errs after 10.3 ms, and up to 3 attempts are
/// allowed with no backoff. Call 1 fails at 11.3 ms and takes the one retry resource; it keeps
/// it through its second retry (released and retaken at the next decision, 21.6 ms) until it
/// ends at 31.9 ms; the calls failing meanwhile (2 to 21) are denied. The next to fail, call
/// 22 at 32.3 ms, gets the resource, and so on: calls 1, 22, 43, …, 988 (48 calls) retry
/// twice, the 952 others are denied at their first failure.
#[test]
fn envoy_budget_allows_one_retry_in_flight() {
    let (r, _) = run(r#"Topology(
        run: (duration: "2s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "1s", per_second: 0)]))],
        services: {
            "api": (workers: 1000, steps: [Call(to: "s",
                retry: (attempts: 3, budget: Envoy(percent: 1, min_concurrency: 1)))]),
            "s": (workers: 1000, work: Const("10.3ms"), errors: 1.0),
        },
    )"#);
    let c = &r.calls[0];
    assert_eq!(c.calls, 1000);
    assert_eq!((c.retries, c.retries_denied), (96, 952));
    assert_eq!(c.attempts, 1096);
    assert_eq!(c.outcomes.error, 1000);
    // The bound behind it: one retry in flight at a time, each lasting ≥ 10.3 ms, over the
    // ~1.03 s in which calls fail: at most 1.03 / 0.0103 + 1 = 101 retries.
    assert!(
        c.amplification <= 1.0 + 101.0 / 1000.0,
        "{}",
        c.amplification
    );
    // Without the budget every call would retry twice.
    let (free, _) = run(r#"Topology(
        run: (duration: "2s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "1s", per_second: 0)]))],
        services: {
            "api": (workers: 1000, steps: [Call(to: "s", retry: (attempts: 3))]),
            "s": (workers: 1000, work: Const("10.3ms"), errors: 1.0),
        },
    )"#);
    assert_eq!(
        (free.calls[0].retries, free.calls[0].retries_denied),
        (2000, 0)
    );
}

/// The gRPC token bucket (`max_tokens: 10, token_ratio: 0.1`) starts with 10 tokens, each
/// failed attempt costs 1, each success earns 0.1, and a retry needs more than 5 tokens after
/// the failure is counted. Calls are 100 ms apart and never overlap; the callee fails
/// everything during two error bursts.
///
/// Burst 1 covers calls 1–10. Call 1: 10 → 9 (retry), 8 (retry), 7 (no attempt left).
/// Call 2: 6 (retry), 5 (not > 5: denied). Calls 3–10: 4, 3, 2, 1, 0, 0, 0, 0, each denied.
/// Then calls 11–71 succeed: 61 × 0.1 = 6.1 tokens. Burst 2 covers call 72: 5.1 (retry, sent
/// at once, also in the burst), 4.1 (denied). Calls 73–132 succeed and refill the bucket to
/// its cap of 10 (4.1 + 5.9 after 59 of them), and burst 3 covers call 133: 9 (retry),
/// 8 (retry), 7: retries are back.
#[test]
fn token_bucket_stops_retries_after_failures_and_refills() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "20s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 10, profile: [(at: "13300ms", per_second: 0)]))],
        services: {
            "api": (steps: [Call(to: "s",
                retry: (attempts: 3, budget: TokenBucket(max_tokens: 10, token_ratio: 0.1)))]),
            "s": (),
        },
        faults: [
            (at: "50ms", lasts: "1000ms", fault: ErrorBurst(service: "s", errors: 1.0)),
            (at: "7150ms", lasts: "100ms", fault: ErrorBurst(service: "s", errors: 1.0)),
            (at: "13250ms", lasts: "100ms", fault: ErrorBurst(service: "s", errors: 1.0)),
        ],
    )"#);
    assert_eq!(trace.len(), 133);
    let c = &r.calls[0];
    // Retries: 2 + 1 (calls 1, 2) + 1 (call 72) + 2 (call 133); denied: 1 + 8 + 1.
    assert_eq!((c.retries, c.retries_denied), (6, 10));
    assert_eq!(c.attempts, 133 + 6);
    assert_eq!((c.outcomes.error, c.outcomes.ok), (12, 121));
}

/// Same setup as above but burst 2 comes after exactly 60 successes (6.0 tokens): the failure
/// leaves 5.0, which is not more than half of 10, so the retry is denied. The strict `>` of
/// gRPC (and the exact milli-token arithmetic) decides it.
#[test]
fn token_bucket_threshold_is_strict() {
    let (r, _) = run(r#"Topology(
        run: (duration: "10s"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 10, profile: [(at: "7100ms", per_second: 0)]))],
        services: {
            "api": (steps: [Call(to: "s",
                retry: (attempts: 3, budget: TokenBucket(max_tokens: 10, token_ratio: 0.1)))]),
            "s": (),
        },
        faults: [
            (at: "50ms", lasts: "1000ms", fault: ErrorBurst(service: "s", errors: 1.0)),
            (at: "7050ms", lasts: "100ms", fault: ErrorBurst(service: "s", errors: 1.0)),
        ],
    )"#);
    let c = &r.calls[0];
    // Calls 11–70 succeed (60 × 0.1 = 6.0); call 71 fails to 5.0 and is denied.
    assert_eq!((c.retries, c.retries_denied), (3, 10));
    assert_eq!((c.calls, c.outcomes.error), (71, 11));
}

// ---- circuit breakers --------------------------------------------------------------------

const BREAKER: &str = r#"Topology(
    run: (duration: "10s"),
    workload: [(name: "main", entry: "api",
                arrivals: Constant(per_second: 100, profile: [(at: "8s", per_second: 0)]))],
    services: {
        "api": (replicas: REPLICAS, steps: [Call(to: "s", breaker: (
            window: Count(10), min_calls: 10, failure_rate: 0.5,
            open_for: "1s", half_open_calls: 3))]),
        "s": (),
    },
    faults: [(at: "1995ms", lasts: "3s", fault: ErrorBurst(service: "s", errors: 1.0))],
)"#;

/// The breaker's whole cycle on one caller replica. Calls every 10 ms; the callee fails
/// everything from 1.995 s to 4.995 s.
/// * Calls at 2.00–2.04 s fail; the fifth makes the last 10 results 50 % failed: OPEN at
///   2.04 s.
/// * Calls up to 3.04 s are refused (`circuit_open`, not reaching the callee); the call at
///   3.05 s, strictly after the 1 s wait, turns it HALF_OPEN and is a probe. Three probes
///   (3.05–3.07) fail: OPEN at 3.07 s. Again HALF_OPEN at 4.08, OPEN at 4.10.
/// * HALF_OPEN at 5.11 s, after the burst: three successful probes, CLOSED at 5.13 s.
///
/// 300 calls are refused (3 × 100), so the callee gets 800 − 300 = 500 requests; 5 + 6 probes
/// fail. The attempts series shows the callee's traffic stopping while the breaker is open.
#[test]
fn breaker_opens_probes_and_closes() {
    let (r, _) = run(&BREAKER.replace("REPLICAS", "1"));
    let e = &r.entries[0];
    assert_eq!(e.offered, 800);
    assert_eq!(
        (e.outcomes.ok, e.outcomes.error, e.outcomes.circuit_open),
        (489, 11, 300)
    );
    let c = &r.calls[0];
    assert_eq!(
        (c.calls, c.attempts, c.outcomes.circuit_open),
        (800, 500, 300)
    );
    assert_eq!(r.service("s").unwrap().arrivals, 500);
    let b = c.breaker.as_ref().expect("a breaker report");
    assert_eq!(b.not_permitted, 300);
    let log: Vec<(f64, &str, &str)> = b
        .log
        .iter()
        .map(|t| (t.at_s, t.from.as_str(), t.to.as_str()))
        .collect();
    let expected = [
        (2.04, "closed", "open"),
        (3.05, "open", "half_open"),
        (3.07, "half_open", "open"),
        (4.08, "open", "half_open"),
        (4.10, "half_open", "open"),
        (5.11, "open", "half_open"),
        (5.13, "half_open", "closed"),
    ];
    assert_eq!(log.len(), expected.len(), "{log:?}");
    for (got, want) in log.iter().zip(&expected) {
        assert!(
            (got.0 - want.0).abs() < 1e-9 && got.1 == want.1 && got.2 == want.2,
            "{log:?}"
        );
    }
    assert_eq!(b.transitions, 7);
    assert_exact("closed", b.closed_s, 2.04 + (10.0 - 5.13));
    assert_exact("open", b.open_s, 3.0 * 1.01);
    assert_exact("half-open", b.half_open_s, 3.0 * 0.02);
    // Attempts per 1 s bucket: 5 before it opens, 3 probes, 3 probes, then 89 from 5.11 s.
    assert_eq!(&r.series.calls[0].attempts[2..6], &[5, 3, 3, 89]);
    assert_eq!(r.series.calls[0].calls[2..6], [100, 100, 100, 100]);
}

/// With two caller replicas (round-robin, so each sees every other call) each has its own
/// breaker: both open, probe and close, each log runs closed → open → half_open → … →
/// closed in time order, and the time in the three states sums to the run length × 2.
#[test]
fn breakers_are_per_caller_replica() {
    let (r, _) = run(&BREAKER.replace("REPLICAS", "2"));
    let b = r.calls[0].breaker.as_ref().unwrap();
    assert_exact(
        "time in states",
        b.closed_s + b.open_s + b.half_open_s,
        2.0 * r.duration_s,
    );
    for replica in 0..2 {
        let log: Vec<_> = b.log.iter().filter(|t| t.replica == replica).collect();
        assert!(log.len() >= 3, "replica {replica}: {log:?}");
        let mut state = "closed";
        let mut last = 0.0;
        for t in &log {
            assert_eq!(t.from, state, "replica {replica}: {log:?}");
            assert!(t.at_s >= last, "replica {replica}: {log:?}");
            // Nothing happens before the burst, and it has closed soon after.
            assert!(t.at_s > 1.995 && t.at_s < 7.0, "replica {replica}: {log:?}");
            state = &t.to;
            last = t.at_s;
        }
        assert_eq!(state, "closed", "replica {replica}");
        // Each opening lasts the 1 s wait and a bit (until the next call, 20 ms apart).
        for w in log.windows(2) {
            if w[0].to == "open" {
                let open = w[1].at_s - w[0].at_s;
                assert!((1.0..=1.03).contains(&open), "replica {replica}: {log:?}");
            }
        }
    }
    assert_eq!(b.transitions as usize, b.log.len());
    let e = &r.entries[0];
    assert!(e.outcomes.circuit_open > 0);
    assert_eq!(e.outcomes.circuit_open, b.not_permitted);
}

/// With `automatic: true` the breaker leaves OPEN by its own timer, exactly `open_for` after
/// it opened, even with no traffic; `max_half_open` sends it back to OPEN when no probe has
/// decided in time. Same burst as above, but calls stop at 2.5 s: OPEN at 2.04 s, HALF_OPEN at
/// 3.04 s, then with no probes OPEN again after 0.5 s and HALF_OPEN after 1 s, and so on
/// until the end at 10 s. Without `automatic` the breaker would stay OPEN to the end (no call to move it).
#[test]
fn automatic_breaker_moves_on_its_own_timers() {
    let text = |extra: &str| {
        format!(
            r#"Topology(
            run: (duration: "10s"),
            workload: [(name: "main", entry: "api",
                        arrivals: Constant(per_second: 100, profile: [(at: "2.5s", per_second: 0)]))],
            services: {{
                "api": (steps: [Call(to: "s", breaker: (
                    window: Count(10), min_calls: 10, open_for: "1s", half_open_calls: 3{extra}))]),
                "s": (),
            }},
            faults: [(at: "1995ms", lasts: "3s", fault: ErrorBurst(service: "s", errors: 1.0))],
        )"#
        )
    };
    let log = |r: &Report| -> Vec<(f64, String, String)> {
        let b = r.calls[0].breaker.as_ref().unwrap();
        b.log
            .iter()
            .map(|t| ((t.at_s * 1e3).round() / 1e3, t.from.clone(), t.to.clone()))
            .collect()
    };
    let (lazy, _) = run(&text(""));
    assert_eq!(log(&lazy), [(2.04, "closed".into(), "open".into())]);
    assert_exact(
        "lazy: open to the end",
        lazy.calls[0].breaker.as_ref().unwrap().open_s,
        10.0 - 2.04,
    );

    let (auto, _) = run(&text(r#", automatic: true, max_half_open: "500ms""#));
    let mut expected = vec![(2.04, "closed".to_string(), "open".to_string())];
    for t in [3.04, 4.54, 6.04, 7.54, 9.04] {
        expected.push((t, "open".into(), "half_open".into()));
        expected.push((t + 0.5, "half_open".into(), "open".into()));
    }
    let expected: Vec<(f64, String, String)> = expected
        .into_iter()
        .map(|(t, a, b)| ((t * 1e3_f64).round() / 1e3, a, b))
        .collect();
    assert_eq!(log(&auto), expected);
    let b = auto.calls[0].breaker.as_ref().unwrap();
    assert_exact("closed", b.closed_s, 2.04);
    assert_exact("half-open: 5 × 0.5 s", b.half_open_s, 2.5);
    assert_exact("open: 1 s, 4 × 1 s, then 9.54 s to the end", b.open_s, 5.46);
    assert_exact(
        "time in states",
        b.closed_s + b.open_s + b.half_open_s,
        10.0,
    );
}

// ---- bulkheads ---------------------------------------------------------------------------

/// `max_concurrent: 2` with no waiting: 5 requests 1 ms apart call a callee that works 50 ms.
/// The first two get permits (answered at 51 and 52 ms, 50 ms after they arrived); the other
/// three are rejected at once, by the caller's bulkhead, without reaching the callee.
#[test]
fn bulkhead_caps_attempts_in_flight() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "5ms", per_second: 0)]))],
        services: {
            "api": (workers: 10, steps: [Call(to: "s", bulkhead: (max_concurrent: 2))]),
            "s": (workers: 10, work: Const("50ms")),
        },
    )"#);
    assert_eq!(
        trace,
        [
            record(3.0, Outcome::Rejected, 0.0),
            record(4.0, Outcome::Rejected, 0.0),
            record(5.0, Outcome::Rejected, 0.0),
            record(51.0, Outcome::Ok, 50.0),
            record(52.0, Outcome::Ok, 50.0),
        ]
    );
    let c = &r.calls[0];
    assert_eq!((c.calls, c.attempts, c.bulkhead_rejections), (5, 2, 3));
    let s = r.service("s").unwrap();
    assert_eq!(s.arrivals, 2);
    assert_exact("callee busy", s.mean_busy_workers, 100.0 / 100.0);
}

/// `max_wait` lets a waiter through when a permit frees in time, and rejects it at its
/// deadline otherwise. One permit, a 30 ms wait, a 20 ms callee; requests at 1, 2, 3 ms.
/// Request 1 holds the permit 1–21 ms. Request 2 waits from 2 ms (deadline 32), gets the
/// permit at 21 ms and is answered at 41 ms. Request 3 waits from 3 ms (deadline 33); the
/// permit is not free before 41 ms, so it is rejected at 33 ms, after waiting 30 ms.
#[test]
fn bulkhead_max_wait_admits_in_time_or_rejects_at_the_deadline() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "3ms", per_second: 0)]))],
        services: {
            "api": (workers: 10, steps: [Call(to: "s",
                bulkhead: (max_concurrent: 1, max_wait: "30ms"))]),
            "s": (workers: 10, work: Const("20ms")),
        },
    )"#);
    assert_eq!(
        trace,
        [
            record(21.0, Outcome::Ok, 20.0),
            record(33.0, Outcome::Rejected, 30.0),
            record(41.0, Outcome::Ok, 39.0),
        ]
    );
    let c = &r.calls[0];
    assert_eq!((c.attempts, c.bulkhead_rejections), (2, 1));
    // The waiting time is part of the call as the caller saw it.
    assert_exact("call max latency", c.latency.max_ms, 39.0);
}

/// A permit that frees exactly at a waiter's deadline does not admit it (the waiter may wait
/// at most `max_wait`): `max_wait: "19ms"` puts request 2's deadline at 21 ms, the instant
/// request 1 releases the permit, and request 2 is rejected there.
#[test]
fn bulkhead_permit_freed_at_the_deadline_is_too_late() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "100ms"),
        workload: [(name: "main", entry: "api",
                    arrivals: Constant(per_second: 1000, profile: [(at: "2ms", per_second: 0)]))],
        services: {
            "api": (workers: 10, steps: [Call(to: "s",
                bulkhead: (max_concurrent: 1, max_wait: "19ms"))]),
            "s": (workers: 10, work: Const("20ms")),
        },
    )"#);
    assert_eq!(
        trace,
        [
            record(21.0, Outcome::Ok, 20.0),
            record(21.0, Outcome::Rejected, 19.0),
        ]
    );
    assert_eq!(r.calls[0].bulkhead_rejections, 1);
}

// ---- fallbacks ---------------------------------------------------------------------------

/// `on_failure: Fallback(Const("2ms"))`: a call that fails (the callee errs after 3 ms) is
/// answered by a local fallback after 2 ms more, and the request goes on: with 1 ms of work
/// after the call, it ends `degraded` at 3 + 2 + 1 = 6 ms, counted as available. The call
/// itself ended in `error` as the caller saw it. A caller of the degraded service sees
/// `degraded` too, and the fallback does not hide a later failure (second entry point: a
/// second call fails and the request ends `error`).
#[test]
fn fallback_answers_degraded_after_its_time() {
    let (r, trace) = run(r#"Topology(
        run: (duration: "1s"),
        workload: [
            (name: "direct", entry: "api",
             arrivals: Constant(per_second: 100, profile: [(at: "100ms", per_second: 0)])),
            (name: "through", entry: "front",
             arrivals: Constant(per_second: 100, profile: [(at: "100ms", per_second: 0)])),
            (name: "both", entry: "worse",
             arrivals: Constant(per_second: 100, profile: [(at: "100ms", per_second: 0)])),
        ],
        services: {
            "front": (workers: 10, steps: [Call(to: "api")]),
            "worse": (workers: 10, steps: [Call(to: "api"), Call(to: "bad")]),
            "api": (workers: 10, steps: [
                Call(to: "s", on_failure: Fallback(Const("2ms"))),
                Work(Const("1ms")),
            ]),
            "s": (workers: 10, work: Const("3ms"), errors: 1.0),
            "bad": (workers: 10, errors: 1.0),
        },
    )"#);
    let direct = &r.entries[0];
    assert_eq!((direct.offered, direct.outcomes.degraded), (10, 10));
    assert_exact("availability", direct.availability, 1.0);
    assert_exact("latency", direct.latency.mean_ms, 6.0);
    assert_exact("max latency", direct.latency.max_ms, 6.0);
    assert!(trace
        .iter()
        .filter(|t| t.entry == 0)
        .all(|t| t.outcome == Outcome::Degraded && t.latency == SimDuration(ns(6.0))));
    let through = &r.entries[1];
    assert_eq!(through.outcomes.degraded, 10);
    let both = &r.entries[2];
    assert_eq!((both.outcomes.error, both.outcomes.degraded), (10, 0));
    let api = r.service("api").unwrap();
    assert_eq!(api.outcomes.degraded, 30);
    let call = r.calls.iter().find(|c| c.from == "api").unwrap();
    assert_eq!(call.outcomes.error, 30);
    assert_exact(
        "the call's latency excludes the fallback",
        call.latency.max_ms,
        3.0,
    );
}

//! Determinism: a run is a pure function of the model and the seed, whatever the thread count,
//! and each entity draws from its own random stream (common random numbers).

use crate::common::{bundled, model, opts};
use microsim::{run_seeds, Model, Report, RunError, RunOptions};

/// One run of `m`, as `microsim run` does it.
fn run(m: &Model, o: &RunOptions) -> Result<Report, RunError> {
    m.run(o)
}

/// The bundled checkout topology (calls, a choice, log-normal and gamma work, a rate
/// profile), shortened to 60 s so that its spike is not reached.
fn checkout() -> Model {
    let path = bundled()
        .into_iter()
        .find(|p| p.ends_with("checkout.ron"))
        .unwrap();
    microsim::load(path).unwrap()
}

#[test]
fn same_seed_gives_a_byte_identical_report() {
    let m = checkout();
    let o = opts(60.0, 5.0);
    let a = run(&m, &o).unwrap().to_json();
    let b = run(&m, &o).unwrap().to_json();
    assert!(a == b, "two runs with the same seed differ");
}

#[test]
fn different_seeds_give_different_reports() {
    let m = checkout();
    let mut o = opts(60.0, 5.0);
    o.seed = Some(1);
    let a = run(&m, &o).unwrap();
    o.seed = Some(2);
    let b = run(&m, &o).unwrap();
    assert_eq!((a.seed, b.seed), (1, 2));
    assert_ne!(a.entries[0].offered, b.entries[0].offered);
    assert_ne!(a.entries[0].latency, b.entries[0].latency);
}

#[test]
fn run_seeds_is_independent_of_the_thread_count() {
    let m = checkout();
    let o = opts(30.0, 5.0);
    let seeds = [3, 1, 4, 1, 5];
    let in_pool = |threads: usize| -> Vec<String> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_seeds(&m, &o, &seeds))
            .into_iter()
            .map(|r| r.unwrap().to_json())
            .collect()
    };
    let one = in_pool(1);
    let two = in_pool(2);
    assert!(one == two, "1 and 2 threads give different reports");
    // In seed order, each the same as a run on its own.
    for (json, &seed) in one.iter().zip(&seeds) {
        let mut alone = o.clone();
        alone.seed = Some(seed);
        assert!(*json == run(&m, &alone).unwrap().to_json(), "seed {seed}");
    }
    // The repeated seed gives the same report; different seeds do not.
    assert_eq!(one[1], one[3]);
    assert_ne!(one[0], one[1]);
}

/// Streams are named after their entities: changing one service's work leaves an independent
/// part of the topology (its own entry point, services and draws) exactly as it was, so A/B
/// comparisons see the same traffic.
#[test]
fn changing_one_service_keeps_the_other_streams() {
    let text = |b_work: &str| {
        format!(
            r#"Topology(
                run: (duration: "20s", seed: 9),
                workload: [
                    (name: "x", entry: "a", arrivals: Poisson(per_second: 100)),
                    (name: "y", entry: "b", arrivals: Poisson(per_second: 100)),
                ],
                services: {{
                    "a": (workers: 2, work: Exp(mean: "5ms"), errors: 0.1,
                          steps: [Call(to: "c", probability: 0.5)]),
                    "b": (workers: 2, work: {b_work}, errors: 0.1),
                    "c": (workers: 2, work: Exp(mean: "2ms"), errors: 0.1),
                }},
            )"#
        )
    };
    let r1 = model(&text(r#"Exp(mean: "2ms")"#))
        .run(&Default::default())
        .unwrap();
    let r2 = model(&text(r#"Const("3ms")"#))
        .run(&Default::default())
        .unwrap();
    // Everything on the x → a → c side is identical, to the last bit.
    assert_eq!(r1.entries[0], r2.entries[0]);
    assert_eq!(r1.service("a"), r2.service("a"));
    assert_eq!(r1.service("c"), r2.service("c"));
    assert_eq!(r1.calls, r2.calls);
    // The y side did change.
    assert_eq!(r1.entries[1].offered, r2.entries[1].offered);
    assert_ne!(r1.service("b"), r2.service("b"));
}

/// Two independent parts: `x → y` (with a call latency, a retry with jitter, a call
/// probability and a fallback) and whatever `extra` adds before them in the file.
fn two_parts(extra_services: &str, extra_workload: &str, faults: &str) -> Model {
    model(&format!(
        r#"Topology(
            run: (duration: "30s", seed: 5),
            workload: [
                {extra_workload}
                (name: "main", entry: "x", arrivals: Poisson(per_second: 150)),
            ],
            services: {{
                {extra_services}
                "x": (workers: 4, work: Exp(mean: "2ms"), errors: 0.05,
                      steps: [Call(to: "y", probability: 0.7, latency: Exp(mean: "1ms"),
                                   timeout: "30ms",
                                   retry: (attempts: 3, backoff: Exponential(base: "2ms", max: "20ms"),
                                           jitter: Full),
                                   on_failure: Fallback(Exp(mean: "1ms")))]),
                "y": (workers: 2, work: Exp(mean: "4ms"), errors: 0.1),
            }},
            faults: [{faults}],
        )"#
    ))
}

/// The request-level results of the `x → y` part: its entry point, both services and the
/// call, as the report gives them (everything but the time series).
fn x_part(r: &Report) -> String {
    let call = r
        .calls
        .iter()
        .find(|c| c.from == "x")
        .expect("the x → y call");
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        r.entry("main"),
        r.service("x"),
        r.service("y"),
        call
    )
}

/// Common random numbers: each random stream is keyed by the stable name of what draws
/// from it (a call by its path in the file), so adding a service with its own call *before*
/// the `x → y` part in the file, which shifts the index of every later call step, leaves
/// that part byte-identical. (With streams keyed by a call's global index it did not.)
#[test]
fn adding_an_unrelated_call_or_service_keeps_the_other_streams() {
    let base = two_parts("", "", "").run(&Default::default()).unwrap();
    let added = two_parts(
        r#""a": (workers: 2, work: Exp(mean: "1ms"),
                 steps: [Call(to: "b", latency: Exp(mean: "1ms"), probability: 0.5,
                              retry: (attempts: 2, jitter: Full))]),
           "b": (workers: 2, work: Exp(mean: "3ms"), errors: 0.2),"#,
        r#"(name: "other", entry: "a", arrivals: Poisson(per_second: 80)),"#,
        "",
    )
    .run(&Default::default())
    .unwrap();
    assert!(added.entry("other").unwrap().offered > 1000);
    assert_eq!(added.calls.len(), 2, "the new call is a step of its own");
    assert!(
        x_part(&base) == x_part(&added),
        "the x → y part changed when an unrelated service and call were added:\n{}\n---\n{}",
        x_part(&base),
        x_part(&added)
    );
}

/// Faults draw from streams of their own: a latency fault, an error burst, a slowdown and a
/// crash on the other part of the topology leave `x → y` byte-identical.
#[test]
fn faults_on_another_service_keep_the_other_streams() {
    let other = r#""a": (workers: 2, work: Exp(mean: "1ms"),
                         steps: [Call(to: "b", latency: Exp(mean: "1ms"), timeout: "50ms")]),
                   "b": (replicas: 2, workers: 2, work: Exp(mean: "3ms"), errors: 0.2),"#;
    let entry = r#"(name: "other", entry: "a", arrivals: Poisson(per_second: 80)),"#;
    let base = two_parts(other, entry, "")
        .run(&Default::default())
        .unwrap();
    let faulted = two_parts(
        other,
        entry,
        r#"(at: "5s", lasts: "5s", fault: Latency(from: "a", to: "b", add: Exp(mean: "5ms"))),
           (at: "8s", lasts: "6s", fault: ErrorBurst(service: "b", errors: 0.5)),
           (at: "12s", lasts: "4s", fault: Slowdown(service: "b", factor: 3.0)),
           (at: "20s", lasts: "3s", fault: Crash(service: "b", replicas: 1)),"#,
    )
    .run(&Default::default())
    .unwrap();
    // The faults did act on the other part ...
    assert_ne!(base.service("b"), faulted.service("b"));
    assert!(faulted.service("b").unwrap().unavailable > 0);
    // ... and nowhere else.
    assert!(
        x_part(&base) == x_part(&faulted),
        "faults on `a → b` changed the x → y part:\n{}\n---\n{}",
        x_part(&base),
        x_part(&faulted)
    );
}

/// One service `s` behind a caller `c` (no queueing anywhere: more workers than requests),
/// with its own errors, a call latency and a publish with a latency.
fn no_queueing(publish_latency: &str, faults: &str) -> Model {
    model(&format!(
        r#"Topology(
            run: (duration: "20s", warmup: "0s", seed: 11),
            workload: [(name: "main", entry: "c", arrivals: Poisson(per_second: 200))],
            services: {{
                "c": (workers: 1000, work: Exp(mean: "1ms"),
                      steps: [Call(to: "s", latency: Exp(mean: "1ms"))]),
                "s": (workers: 1000, work: Exp(mean: "2ms"), errors: 0.2,
                      steps: [Publish(topic: "t", latency: {publish_latency})]),
                "sink": (workers: 1000, work: Const("0ms")),
            }},
            topics: {{"t": (partitions: 1, subscribers: [(service: "sink")])}},
            faults: [{faults}],
        )"#
    ))
}

/// The answers of requests sent at or after `from_s`, in order.
fn answers_from(trace: &[microsim::engine::TraceRecord], from_s: f64) -> Vec<String> {
    trace
        .iter()
        .filter(|t| (t.time.0 - t.latency.0) as f64 / 1e9 >= from_s)
        .map(|t| format!("{:?}", t))
        .collect()
}

/// A fault draws from its own stream, never from the streams of what it disturbs: once a
/// latency fault on `c → s`, an error burst on `s` and a slow broker are over (and with no
/// queue to carry their effect on), every request is answered exactly as in the run without
/// them. A publish latency is the publish step's own stream too: a latency that draws
/// (`Uniform` from 1 ms to 1 ms) leaves the work times of its service as a constant one does.
#[test]
fn faults_and_publish_latencies_do_not_consume_baseline_draws() {
    let run = |m: Model| microsim::run_traced(&m, &Default::default()).unwrap().1;
    let base = run(no_queueing(r#"Const("1ms")"#, ""));
    let faulted = run(no_queueing(
        r#"Const("1ms")"#,
        r#"(at: "4s", lasts: "3s", fault: Latency(from: "c", to: "s", add: Exp(mean: "3ms"))),
           (at: "5s", lasts: "3s", fault: ErrorBurst(service: "s", errors: 0.5)),
           (at: "6s", lasts: "3s", fault: BrokerSlow(add: Exp(mean: "2ms"))),"#,
    ));
    assert!(base.len() > 3500);
    // During the faults the answers differ ...
    assert_ne!(answers_from(&base, 4.0), answers_from(&faulted, 4.0));
    // ... and from a little after the last one ends they are the same, request for request.
    let after = answers_from(&base, 9.5);
    assert!(after.len() > 1500);
    assert!(
        after == answers_from(&faulted, 9.5),
        "answers after the faults ended differ from the run without faults"
    );
    // A publish latency that draws, but always 1 ms: not a single answer moves.
    let drawing = run(no_queueing(r#"Uniform(min: "1ms", max: "1ms")"#, ""));
    assert!(
        answers_from(&base, 0.0) == answers_from(&drawing, 0.0),
        "a publish latency drew from its service's work stream"
    );
}

/// Two independent parts in one file: `web → api → db`, where api's call to db has a
/// `timeout` (the one field the variants change) and retries, and `batch → worker → cache`.
fn timeout_variant(api_timeout: &str) -> Model {
    model(&format!(
        r#"Topology(
            run: (duration: "20s", warmup: "2s", seed: 21),
            workload: [
                (name: "web", entry: "api", arrivals: Poisson(per_second: 300)),
                (name: "batch", entry: "worker", arrivals: Poisson(per_second: 150)),
            ],
            services: {{
                "api": (workers: 1000, work: Exp(mean: "1ms"),
                        steps: [Call(to: "db", timeout: "{api_timeout}", latency: Exp(mean: "1ms"),
                                     retry: (attempts: 3, backoff: Exponential(base: "5ms", max: "40ms"),
                                             jitter: Full))]),
                "db": (workers: 2, work: Exp(mean: "5ms"), errors: 0.02),
                "worker": (workers: 2, work: Exp(mean: "3ms"), errors: 0.05,
                           steps: [Call(to: "cache", latency: Exp(mean: "1ms"), probability: 0.6)]),
                "cache": (workers: 1, work: Exp(mean: "2ms")),
            }},
        )"#
    ))
}

/// The send times \[ns\] of the requests of entry point `entry` sent before `before_s`, in
/// send order.
fn sent_times(trace: &[microsim::engine::TraceRecord], entry: u32, before_s: f64) -> Vec<u64> {
    let mut sent: Vec<u64> = trace
        .iter()
        .filter(|t| t.entry == entry)
        .map(|t| t.time.0 - t.latency.0)
        .filter(|&s| (s as f64) < before_s * 1e9)
        .collect();
    sent.sort_unstable();
    sent
}

/// Common random numbers, for an A/B comparison of one call timeout: two variants that
/// differ only in `services[api].steps[0].timeout` (15 ms, which times out and retries a
/// good part of db's slow answers, against 200 ms, which almost never does) draw identical
/// arrivals — for every entry point, the timeout's own included: the same number of requests
/// offered, sent at the same nanoseconds — and identical service times at the services the
/// timeout cannot reach (`worker` and `cache`: their reports and their client's answers are
/// identical, to the last bit). Only `api → db` and its client see the change.
#[test]
fn a_call_timeout_variant_keeps_arrivals_and_the_unaffected_services() {
    let run = |timeout: &str| {
        microsim::run_traced(&timeout_variant(timeout), &Default::default()).unwrap()
    };
    let (short, short_trace) = run("15ms");
    let (long, long_trace) = run("200ms");
    // The variants do differ where the timeout reaches: more timeouts, more retries, more
    // requests at db.
    let db_calls = |r: &Report| r.calls.iter().find(|c| c.from == "api").unwrap().clone();
    assert!(db_calls(&short).outcomes.timeout > 10 * db_calls(&long).outcomes.timeout.max(1));
    assert!(short.service("db").unwrap().arrivals > long.service("db").unwrap().arrivals);
    assert_ne!(short.entry("web"), long.entry("web"));
    // Arrivals: per entry point, the same count offered ...
    for (a, b) in short.entries.iter().zip(&long.entries) {
        assert_eq!(a.offered, b.offered, "{}", a.name);
    }
    // ... and the same send times. Every request sent before 19 s is answered by the end of
    // the run (20 s) in both (api never queues, and a call ends within its three attempts:
    // at most 3 × 200 ms plus 2 × 40 ms of backoff), so these lists are complete.
    for (entry, name) in [(0, "web"), (1, "batch")] {
        let (a, b) = (
            sent_times(&short_trace, entry, 19.0),
            sent_times(&long_trace, entry, 19.0),
        );
        assert!(a.len() > 2000, "{name}: {} requests", a.len());
        assert!(a == b, "{name}: the variants sent different requests");
    }
    // The services the timeout cannot reach: identical reports (arrivals, latency, waits,
    // utilization, ...), so identical service times, and identical answers to their client.
    assert_eq!(short.service("worker"), long.service("worker"));
    assert_eq!(short.service("cache"), long.service("cache"));
    assert_eq!(short.entry("batch"), long.entry("batch"));
    let batch = |t: &[microsim::engine::TraceRecord]| -> Vec<_> {
        t.iter().filter(|r| r.entry == 1).copied().collect()
    };
    assert!(batch(&short_trace) == batch(&long_trace));
}

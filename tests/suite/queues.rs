//! Work queues end to end: competing consumers as M/M/c stations, networks of them against
//! Jackson's theorem (the reference models M2 and M3 of docs/semantics.md), conservation,
//! redelivery, visibility timeouts, dead-lettering and consumer crashes.

use crate::common::{assert_matches, model, opts, replicate, root};
use microsim::report::QueueReport;
use microsim::{Report, RunOptions};

fn load(name: &str) -> microsim::Model {
    microsim::load(root().join("topologies").join(name)).expect("bundled topology loads")
}

fn queue<'a>(r: &'a Report, name: &str) -> &'a QueueReport {
    r.queues
        .iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no queue {name}"))
}

/// A customer's mean time in a network of queues, from the report alone: every station's
/// mean sojourn (send → acknowledged) weighted by its visits, i.e. Σ_i n_i·W_i / customers,
/// where n_i counts the messages sent to station i after the warm-up and customers are the
/// arrivals of every entry point. This is the total time customers spent in the network
/// divided by their number (exact up to the customers still inside at the end of the run).
fn network_sojourn_ms(r: &Report) -> f64 {
    let total: f64 = r
        .queues
        .iter()
        .map(|q| q.latency.count as f64 * q.latency.mean_ms)
        .sum();
    let customers: u64 = r.entries.iter().map(|e| e.offered).sum();
    total / customers as f64
}

/// The same from the analytic shadow: Σ_i λ_i·W_i / λ0 (Little's law per station).
fn analytic_network_sojourn_ms(r: &Report) -> f64 {
    let a = &r.analysis;
    let total: f64 = a
        .queues
        .iter()
        .map(|q| q.rate_per_s * q.sojourn_ms.expect("stable station"))
        .sum();
    let lambda0: f64 = a.entries.iter().map(|e| e.rate_per_s).sum();
    total / lambda0
}

/// `topologies/m2.ron`: five M/M/4 stations in tandem at ρ = 0.7. The shadow gives
/// 5 × 3.8002 = 19.001 ms, M2's analytic value; ten replications of 60 s
/// (60,000 customers each) estimate the mean with a standard error of about 0.3 %, and
/// `assert_matches` allows 5 s.e. plus a 0.5 % warm-up bias (< 3 % in all).
#[test]
fn m2_tandem_of_mm4_matches_its_analytic_sojourn() {
    let reports = replicate(&load("m2.ron"), &opts(60.0, 2.0));
    let analytic = analytic_network_sojourn_ms(&reports[0]);
    assert!((analytic - 19.001).abs() < 0.001, "shadow: {analytic}");
    let w: Vec<f64> = reports.iter().map(network_sojourn_ms).collect();
    assert_matches("M2 mean sojourn [ms]", &w, 19.001, 0.005 * 19.001, 0.03);
    // Each station alone is M/M/4: W = 3.8002 ms.
    for q in ["q1", "q3", "q5"] {
        let w: Vec<f64> = reports
            .iter()
            .map(|r| queue(r, q).latency.mean_ms)
            .collect();
        assert_matches(&format!("{q} sojourn [ms]"), &w, 3.8002, 0.005 * 3.8, 0.03);
    }
    for r in &reports {
        // Every station is at ρ = 0.7, and every message sent was acknowledged or is still
        // in the network at the end (the clients feed q1 directly and always succeed).
        assert_eq!(r.entries[0].availability, 1.0);
        for s in &r.services {
            assert!(
                (s.utilization - 0.7).abs() < 0.02,
                "{}: {}",
                s.name,
                s.utilization
            );
        }
    }
}

/// `topologies/m3.ron`: the 20-station Jackson network M3 (docs/semantics.md, *Reference
/// models M1–M3*). The shadow's traffic equations and M/M/2 stations give its analytic
/// 54.902 ms, which checks that the file encodes the parameters; ten replications of 150 s
/// (150,000 customers, ~500,000 station visits each; the standard error of the mean is
/// about 0.5 %, sojourns in a network at ρ = 0.7 being long-tailed and correlated) put the
/// simulated mean within 5 s.e. plus a 0.5 % warm-up bias of it.
#[test]
fn m3_jackson_network_matches_its_analytic_sojourn() {
    let reports = replicate(&load("m3.ron"), &opts(150.0, 2.0));
    let analytic = analytic_network_sojourn_ms(&reports[0]);
    assert!((analytic - 54.902).abs() < 0.001, "shadow: {analytic}");
    let w: Vec<f64> = reports.iter().map(network_sojourn_ms).collect();
    assert_matches("M3 mean sojourn [ms]", &w, 54.902, 0.005 * 54.902, 0.04);
    for r in &reports {
        assert_eq!(r.entries.len(), 20, "one entry point per station");
        for s in &r.services {
            assert!(
                (s.utilization - 0.7).abs() < 0.05,
                "{}: {}",
                s.name,
                s.utilization
            );
        }
    }
}

fn one_queue(queue_fields: &str, service_fields: &str, per_second: f64, run: &str) -> String {
    format!(
        r#"Topology(
    run: ({run}),
    workload: [(name: "w", entry: "producer", arrivals: Poisson(per_second: {per_second}))],
    services: {{
        "producer": (workers: 4, steps: [Send(queue: "jobs")]),
        "worker": ({service_fields}),
    }},
    queues: {{ "jobs": (service: "worker", {queue_fields}) }},
)"#
    )
}

/// sent = acked + dead_lettered + expired + depth + in_flight, whatever happens: over
/// capacity with retention, with failures and a delivery limit, with a crash.
#[test]
fn messages_are_conserved() {
    let cases = [
        (
            r#"consumers: 2, retention: "2s""#,
            r#"workers: 2, work: Exp(mean: "2ms")"#,
            1200.0,
        ),
        (
            r#"consumers: 2, max_receives: 2"#,
            r#"workers: 2, work: Exp(mean: "1ms"), errors: 0.3"#,
            500.0,
        ),
        (
            r#"consumers: 4, prefetch: 0, visibility_timeout: "200ms""#,
            r#"workers: 2, work: Exp(mean: "3ms")"#,
            500.0,
        ),
    ];
    for (q, s, rate) in cases {
        let text = one_queue(q, s, rate, r#"duration: "20s", seed: 5"#);
        let r = model(&text).run(&RunOptions::default()).unwrap();
        let q = &r.queues[0];
        assert_eq!(
            q.sent,
            q.acked + q.dead_lettered + q.expired + q.depth + q.in_flight,
            "{q:?}"
        );
        assert!(q.sent > 5_000, "{q:?}");
    }
}

/// Failures are retried by redelivery until `max_receives`: with 30 % failures and two
/// deliveries, 0.3² = 9 % of messages are dead-lettered (±5 binomial s.e. on ~10,000).
#[test]
fn a_delivery_limit_dead_letters_what_keeps_failing() {
    let text = one_queue(
        "consumers: 2, max_receives: 2",
        r#"workers: 2, work: Exp(mean: "1ms"), errors: 0.3"#,
        500.0,
        r#"duration: "20s", seed: 9"#,
    );
    let r = model(&text).run(&RunOptions::default()).unwrap();
    let q = &r.queues[0];
    let p = q.dead_lettered as f64 / q.sent as f64;
    let se = (0.09 * 0.91 / q.sent as f64).sqrt();
    assert!((p - 0.09).abs() < 5.0 * se, "dead-lettered {p}");
    // Each failure of a first delivery is redelivered once.
    let first_failures = q.failed - q.dead_lettered;
    assert!(q.redelivered.abs_diff(first_failures) <= 2, "{q:?}");
    // The producer's availability does not see any of it.
    assert_eq!(r.entries[0].availability, 1.0);
}

/// A visibility timeout shorter than the processing: every message is delivered again
/// before its first processing acknowledges it, so it is processed (at least) twice.
#[test]
fn a_short_visibility_timeout_processes_messages_twice() {
    let text = one_queue(
        r#"consumers: 1, visibility_timeout: "15ms""#,
        r#"workers: 4, work: Const("20ms")"#,
        20.0,
        r#"duration: "20s", seed: 2"#,
    );
    let r = model(&text).run(&RunOptions::default()).unwrap();
    let q = &r.queues[0];
    assert!(q.duplicates > 0, "{q:?}");
    assert!(q.redelivered > 0);
    // A message sent to an idle queue: delivered at t, again at t + 15 ms (visibility), its
    // first processing ends at t + 20 ms (ack refused: a duplicate), the second at t + 35 ms
    // after being redelivered once more at t + 30 ms... each message keeps coming back.
    assert!(q.duplicates as f64 > 0.9 * q.sent as f64, "{q:?}");
    // With a long enough timeout, no duplicates at all.
    let text = one_queue(
        r#"consumers: 1, visibility_timeout: "25ms""#,
        r#"workers: 4, work: Const("20ms")"#,
        20.0,
        r#"duration: "20s", seed: 2"#,
    );
    let r = model(&text).run(&RunOptions::default()).unwrap();
    assert_eq!(r.queues[0].duplicates, 0);
    assert_eq!(r.queues[0].redelivered, 0);
}

/// A crashed consumer's unacknowledged messages are requeued at once and the other
/// consumer processes them: nothing is lost, the backlog drains after the crash.
#[test]
fn a_consumer_crash_requeues_its_messages() {
    let text = r#"Topology(
    run: (duration: "30s", seed: 4),
    workload: [(name: "w", entry: "producer", arrivals: Poisson(per_second: 75))],
    services: {
        "producer": (workers: 4, steps: [Send(queue: "jobs")]),
        "worker": (replicas: 2, workers: 2, work: Const("50ms")),
    },
    queues: { "jobs": (service: "worker", consumers: 4) },
    faults: [(at: "10s", lasts: "5s", fault: Crash(service: "worker", replicas: 1))],
)"#;
    let r = model(text).run(&RunOptions::default()).unwrap();
    let q = &r.queues[0];
    assert_eq!(q.dead_lettered + q.expired, 0);
    // Consumers 0 and 2 live on the crashed replica; at 75/s × 50 ms each of the four
    // consumers is busy 94 % of the time, so the crash catches messages in flight.
    assert!(q.redelivered >= 1, "{q:?}");
    assert_eq!(
        q.failed, q.redelivered,
        "each lost processing is delivered again: {q:?}"
    );
    // Half the consumers for 5 s: 75/s in, 40/s out, ~175 pile up, then drain at 5/s.
    assert!(q.max_depth > 100 && q.depth < q.max_depth, "{q:?}");
    assert_eq!(r.entries[0].availability, 1.0);
}

/// With prefetch 1 the backlog waits in the broker; with prefetch 0 (unlimited) the
/// consumers take it all and it waits in the service's own queue instead.
#[test]
fn prefetch_decides_where_the_backlog_waits() {
    let run = |prefetch: u32| {
        let text = one_queue(
            &format!("consumers: 2, prefetch: {prefetch}"),
            r#"workers: 2, work: Exp(mean: "2ms")"#,
            800.0,
            r#"duration: "20s", seed: 6"#,
        );
        model(&text).run(&RunOptions::default()).unwrap()
    };
    let bounded = run(1);
    let unlimited = run(0);
    assert!(
        bounded.services[1].max_queue == 0,
        "{:?}",
        bounded.services[1].max_queue
    );
    assert!(bounded.queues[0].max_depth > 0);
    assert!(unlimited.services[1].max_queue > 0);
    assert_eq!(unlimited.queues[0].max_depth, 0);
    // Either way it is an M/M/2 station at ρ = 0.8: W = 1/μ / (1 − ρ²) = 5.556 ms; one
    // 20 s run each, so only a loose check (the queueing suite checks M/M/c precisely).
    for r in [&bounded, &unlimited] {
        let w = r.queues[0].latency.mean_ms;
        assert!((4.5..6.7).contains(&w), "{w}");
    }
}

/// A flow publishing to a queue keeps its availability when the consumer is down; the
/// backlog waits and drains afterwards.
#[test]
fn a_consumer_outage_becomes_backlog_not_errors() {
    let text = r#"Topology(
    run: (duration: "40s", seed: 8),
    workload: [(name: "w", entry: "producer", arrivals: Poisson(per_second: 100))],
    services: {
        "producer": (workers: 4, steps: [Send(queue: "jobs")]),
        "worker": (workers: 4, work: Exp(mean: "5ms")),
    },
    queues: { "jobs": (service: "worker", consumers: 4) },
    faults: [(at: "10s", lasts: "10s", fault: Crash(service: "worker"))],
)"#;
    let r = model(text).run(&RunOptions::default()).unwrap();
    assert_eq!(r.entries[0].availability, 1.0);
    let q = &r.queues[0];
    // 10 s × 100/s pile up: about 1,000 (Poisson, s.d. ≈ 32).
    assert!((850..1150).contains(&q.max_depth), "{q:?}");
    assert!(q.max_age_s > 9.0, "{q:?}");
    assert!(q.depth < 10, "drained: {q:?}");
    let depth = &r.series.queues[0].depth;
    assert!(depth[15] > 300, "{depth:?}");
}

#[test]
fn an_unknown_queue_is_named_with_a_suggestion() {
    let text =
        one_queue("", "", 10.0, "").replace(r#"Send(queue: "jobs")"#, r#"Send(queue: "jbos")"#);
    let err = microsim::parse(&text, "t.ron").unwrap_err().to_string();
    assert!(
        err.contains("unknown queue `jbos`; did you mean `jobs`?"),
        "{err}"
    );
}

/// Half the messages fail at once (a required call to a failing service) and wait a retry
/// delay much longer than the visibility timeout; the other half take 2 s, twice the
/// timeout, so each of their deliveries becomes visible again before its acknowledgement,
/// which is refused. Nothing may ever be acked: the long retry delays must not postpone the
/// other deliveries' timeouts.
#[test]
fn retry_delays_do_not_postpone_visibility_timeouts() {
    let text = r#"Topology(
    run: (duration: "60s", seed: 3),
    workload: [(name: "w", entry: "producer", arrivals: Poisson(per_second: 2))],
    services: {
        "producer": (workers: 4, steps: [Send(queue: "jobs")]),
        "worker": (workers: 16, steps: [Choice(branches: [
            (weight: 1, steps: [Call(to: "bad")]),
            (weight: 1, steps: [Work(Const("2s"))]),
        ])]),
        "bad": (workers: 4, errors: 1.0),
    },
    queues: { "jobs": (service: "worker", consumers: 2, prefetch: 8, visibility_timeout: "1s", retry_delay: "30s") },
)"#;
    let r = model(text).run(&RunOptions::default()).unwrap();
    let q = &r.queues[0];
    assert!(q.failed > 10 && q.duplicates > 10, "{q:?}");
    assert_eq!(q.acked, 0, "{q:?}");
}

/// 10,000 replicas of 1,000,000 workers behind a work queue with unlimited prefetch: the
/// station's concurrency saturates at u32::MAX, and the analytic shadow's Erlang C once looped
/// once per server (≈ 35 s for `check` and for every `run`). It now costs a few hundred
/// steps (`queueing::erlang_b_steps`), and with 0.1 Erlangs offered to 4·10⁹ servers no
/// message waits: the sojourn is the 1 ms of work.
#[test]
fn a_queue_with_billions_of_servers_is_analysed_at_once() {
    let m = model(
        r#"Topology(
    run: (duration: "1s"),
    workload: [(name: "e", send: "q", arrivals: Constant(per_second: 100))],
    services: { "s": (replicas: 10000, workers: 1000000, work: Const("1ms")) },
    queues: { "q": (service: "s", prefetch: 0) },
)"#,
    );
    let (b, steps) = microsim::analysis::queueing::erlang_b_steps(u32::MAX, 0.1);
    assert_eq!(b, 0.0);
    assert!(steps < 200, "{steps} steps");
    let a = m.analyze();
    let q = &a.queues[0];
    assert_eq!(q.concurrency, u32::MAX);
    assert_eq!(q.sojourn_ms, Some(1.0));
    assert_eq!(q.utilization, 100.0 / (f64::from(u32::MAX) * 1000.0));
    // Messages every 10 ms; the 100th is sent at the end of the run, the 99 before it done.
    let r = m.run(&RunOptions::default()).unwrap();
    assert_eq!(r.queues[0].acked, 99);
}

/// The per-customer mean end-to-end latency of a network of queues (`end_to_end` of each
/// entry point sending to a queue), weighted by customers.
fn end_to_end_ms(r: &Report) -> f64 {
    let (mut total, mut n) = (0.0, 0u64);
    for e in &r.entries {
        let s = e.end_to_end.expect("an entry point that sends to a queue");
        total += s.mean_ms * s.count as f64;
        n += s.count;
    }
    total / n as f64
}

/// M2's end-to-end latency per customer: from the client's send until its message has been
/// through all five stations (the last acknowledged) is a sum of five M/M/4 sojourns,
/// 19.001 ms. Ten replications of 40 s (38,000 customers each; a customer's time has a
/// standard deviation of about 8 ms, and successive customers are correlated, so the
/// standard error of the mean over the ten is about 0.3 %); 5 s.e. plus a 0.5 % warm-up
/// bias.
#[test]
fn m2_end_to_end_latency_per_customer() {
    let reports = replicate(&load("m2.ron"), &opts(40.0, 2.0));
    let e2e: Vec<f64> = reports.iter().map(end_to_end_ms).collect();
    assert_matches("M2 end-to-end [ms]", &e2e, 19.001, 0.005 * 19.001, 0.03);
    for r in &reports {
        let e = r.entries[0].end_to_end.unwrap();
        // Customers done = those sent after the warm-up, less the few still inside.
        assert!(e.count <= r.entries[0].offered);
        assert!(r.entries[0].offered - e.count < 200, "{e:?}");
        // No customer is faster than its five stations' service, nor is the sum of
        // station means far from the customer mean.
        assert!(e.mean_ms > 5.0 * 2.8 * 0.9);
        assert!((e.mean_ms - network_sojourn_ms(r)).abs() < 0.02 * e.mean_ms);
    }
}

/// M3's end-to-end latency per customer (a Jackson network with feedback: a customer visits
/// 3.33 stations on average, some many more): Σ_i λ_i·W_i / λ0 = 54.902 ms. Ten replications
/// of 60 s (58,000 customers each; sojourns in this network are long-tailed and
/// correlated, the standard error over the ten is about 0.6 %); 5 s.e. plus a 0.5 % bias.
#[test]
fn m3_end_to_end_latency_per_customer() {
    let reports = replicate(&load("m3.ron"), &opts(62.0, 2.0));
    let e2e: Vec<f64> = reports.iter().map(end_to_end_ms).collect();
    assert_matches("M3 end-to-end [ms]", &e2e, 54.902, 0.005 * 54.902, 0.04);
}

/// End to end, exactly: a customer's time runs until the *last* message it caused is
/// acknowledged. Station 1 (2 ms) sends two messages to station 2 (3 ms each). With two
/// consumers at station 2 they are processed side by side: 2 + 3 = 5 ms; with one, one after
/// the other: 2 + 3 + 3 = 8 ms. Arrivals 100 ms apart never meet. An entry point that calls
/// a service directly has no end-to-end latency.
#[test]
fn end_to_end_waits_for_the_last_message_of_a_customer() {
    let run = |consumers: u32| {
        model(&format!(
            r#"Topology(
                run: (duration: "10s", warmup: "0s"),
                workload: [
                    (name: "c", send: "q1", arrivals: Constant(per_second: 10)),
                    (name: "direct", entry: "s2", arrivals: Constant(per_second: 1)),
                ],
                services: {{
                    "s1": (workers: 4, work: Const("2ms"),
                           steps: [Send(queue: "q2"), Send(queue: "q2")]),
                    "s2": (workers: 4, work: Const("3ms")),
                }},
                queues: {{
                    "q1": (service: "s1", consumers: 1),
                    "q2": (service: "s2", consumers: {consumers}),
                }},
            )"#
        ))
        .run(&RunOptions::default())
        .unwrap()
    };
    for (consumers, expected_ms) in [(2, 5.0), (1, 8.0)] {
        let r = run(consumers);
        let e = r.entry("c").unwrap().end_to_end.unwrap();
        assert!(e.count >= 99, "{consumers} consumers: {e:?}");
        assert_eq!(
            (e.mean_ms, e.max_ms),
            (expected_ms, expected_ms),
            "{consumers}"
        );
        assert_eq!(r.entry("direct").unwrap().end_to_end, None);
    }
}

//! Thread-per-request versus non-blocking (event-loop) servers: the same slow dependency
//! exhausts a thread pool but not an event loop, whose limit is its in-flight slots.

use microsim::RunOptions;

/// Two gateways in front of identical slow back ends (Exp(100 ms), ample capacity), 300
/// requests/s each. The thread-per-request gateway needs λ·W ≈ 300 × 0.1 s = 30 of its 32
/// workers just to wait; the event-loop gateway does 1 ms of work per request on 4 workers.
fn model(max_in_flight: u32) -> microsim::Model {
    microsim::parse(
        &format!(
            r#"Topology(
    run: (duration: "60s", warmup: "10s", seed: 3),
    workload: [
        (name: "blocking", entry: "gw-threads", arrivals: Poisson(per_second: 300)),
        (name: "event-loop", entry: "gw-loop", arrivals: Poisson(per_second: 300)),
    ],
    services: {{
        "gw-threads": (replicas: 2, workers: 16, queue: 50, work: Exp(mean: "1ms"),
            steps: [Call(to: "slow-a", timeout: "2s")]),
        "gw-loop": (replicas: 2, workers: 2, queue: 50, work: Exp(mean: "1ms"),
            nonblocking: (max_in_flight: {max_in_flight}),
            steps: [Call(to: "slow-b", timeout: "2s")]),
        "slow-a": (replicas: 4, workers: 64, work: Exp(mean: "100ms")),
        "slow-b": (replicas: 4, workers: 64, work: Exp(mean: "100ms")),
    }},
)"#
        ),
        "servers.ron",
    )
    .expect("the model loads")
}

#[test]
fn an_event_loop_holds_workers_only_for_local_work() {
    let r = model(1000).run(&RunOptions::default()).unwrap();
    let threads = r.service("gw-threads").unwrap();
    let looped = r.service("gw-loop").unwrap();
    // Thread pool: workers wait on the back end, so utilization is near 30/32.
    assert!(threads.utilization > 0.85, "{}", threads.utilization);
    // Event loop: 300/s × 1 ms / 4 workers = 0.075; 50 s × 300/s = 15,000 requests give a
    // relative standard error of the mean work of about 1/sqrt(15000) ≈ 0.8 %, so ±10 % is
    // far outside noise yet excludes any accounting of waiting time (which would be ~7.5).
    assert!(
        (looped.utilization - 0.075).abs() < 0.0075,
        "event-loop utilization {}",
        looped.utilization
    );
    // It matches the analytic shadow, which counts local work only for such a service.
    let shadow = r
        .analysis
        .services
        .iter()
        .find(|s| s.name == "gw-loop")
        .unwrap();
    assert!((shadow.utilization - 0.075).abs() < 1e-9);
    // Who holds the workers: only local work.
    assert_eq!(
        looped.occupancy.iter().filter(|o| o.workers > 0.0).count(),
        1
    );
    // In-flight requests still follow Little's law: L ≈ λW.
    let lambda = (looped.arrivals - looped.rejected) as f64 / (r.duration_s - r.warmup_s);
    let little = lambda * looped.latency.mean_ms / 1e3;
    assert!(
        (looped.mean_in_system - little).abs() < 0.02 * little,
        "L = {} vs λW = {little}",
        looped.mean_in_system
    );
}

/// The event loop's own limit is its in-flight slots: 2 replicas × 5 slots hold at most 10
/// requests, but 300/s × 0.1 s = 30 are needed, so requests queue and are rejected although
/// its workers are almost idle.
#[test]
fn an_event_loop_is_bounded_by_its_in_flight_slots() {
    let r = model(5).run(&RunOptions::default()).unwrap();
    let looped = r.service("gw-loop").unwrap();
    assert!(looped.rejected > 1000, "rejected {}", looped.rejected);
    assert!(looped.mean_in_system > 10.0, "{}", looped.mean_in_system);
    assert!(looped.utilization < 0.05, "{}", looped.utilization);
    let entry = r.entry("event-loop").unwrap();
    assert!(entry.availability < 0.6, "{}", entry.availability);
}

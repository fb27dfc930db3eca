//! The analytic shadow (`microsim check`, and "analytic" beside every simulated figure):
//! what it predicts for peaks, fault phases, queues with non-Poisson arrivals, fan-outs,
//! timeouts, waits and networks of work queues, against closed forms and, where the closed
//! form is itself the claim, against simulation.

use crate::common::{assert_matches, model, opts, replicate};
use microsim::analysis::Analysis;

/// The lints of `a` with code `code`.
fn lints<'a>(a: &'a Analysis, code: &str) -> Vec<&'a microsim::analysis::Lint> {
    a.lints.iter().filter(|l| l.code == code).collect()
}

/// Messages that external producers publish at a peak rate reach the consumers at that rate:
/// a group of capacity 1,000/s receiving 1,250/s for 60 s saturates during the peak (it was
/// shown at its mean load, 0.625, with no warning).
#[test]
fn peak_rates_of_broker_entry_points_reach_the_consumers() {
    let m = model(
        r#"Topology(
            run: (duration: "180s", warmup: "0s"),
            workload: [(name: "producers", publish: "t", arrivals: Poisson(per_second: 500,
                profile: [(at: "60s", per_second: 1250), (at: "120s", per_second: 500)]))],
            services: { "c": (work: Exp(mean: "1ms")) },
            topics: { "t": (subscribers: [(service: "c")]) },
        )"#,
    );
    let a = m.analyze();
    let mean = (500.0 * 120.0 + 1250.0 * 60.0) / 180.0;
    let t = &a.topics[0];
    assert!((t.rate_per_s - mean).abs() < 1e-9, "{t:?}");
    assert_eq!(t.peak_rate_per_s, 1250.0);
    let g = &t.groups[0];
    assert!((g.capacity_per_s - 1000.0).abs() < 1e-9, "{g:?}");
    assert!((g.peak_utilization - 1.25).abs() < 1e-12, "{g:?}");
    assert!((g.peak_lag_growth_per_s - 250.0).abs() < 1e-9, "{g:?}");
    assert_eq!(g.lag_growth_per_s, 0.0);
    let c = &a.services[0];
    assert!((c.peak_utilization - 1.25).abs() < 1e-12, "{c:?}");
    assert!((c.utilization - mean / 1000.0).abs() < 1e-12, "{c:?}");
    let found = lints(&a, "lag-grows-at-peak");
    assert_eq!(found.len(), 1, "{:?}", a.lints);
    assert_eq!(found[0].path, "topics[t].subscribers[0]");
    assert!(
        found[0].message.contains("250.0 messages/s"),
        "{}",
        found[0].message
    );
    assert_eq!(lints(&a, "saturated-at-peak").len(), 1, "{:?}", a.lints);

    // The same through a work queue.
    let m = model(
        r#"Topology(
            run: (duration: "180s", warmup: "0s"),
            workload: [(name: "producers", send: "q", arrivals: Poisson(per_second: 500,
                profile: [(at: "60s", per_second: 1250), (at: "120s", per_second: 500)]))],
            services: { "c": (work: Exp(mean: "1ms")) },
            queues: { "q": (service: "c") },
        )"#,
    );
    let a = m.analyze();
    let q = &a.queues[0];
    assert_eq!(q.peak_rate_per_s, 1250.0);
    assert!((q.peak_utilization - 1.25).abs() < 1e-12, "{q:?}");
    assert!((q.peak_backlog_growth_per_s - 250.0).abs() < 1e-9, "{q:?}");
    let found = lints(&a, "lag-grows-at-peak");
    assert_eq!(found.len(), 1, "{:?}", a.lints);
    assert_eq!(found[0].path, "queues[q]");
}

/// Checks the queue model the shadow gives service `s` of `text` (one entry point, one
/// service of 1 ms exponential work) against `w_ms`, then the simulated mean sojourn of 10
/// replications of 61 s against it (≥ 48,000 requests each; the relative s.e. of the mean
/// sojourn of a GI/M/1 queue at ρ = 0.8 is below 1 % over that many, so 5 % bounds the
/// tolerance).
fn check_queue_model(text: &str, name: &str, w_ms: f64, p_wait: f64) {
    let m = model(text);
    let a = m.analyze();
    let s = &a.services[0];
    let q = s.queue_model.as_ref().expect("an exact queue model");
    assert_eq!(q.model, name);
    assert!((q.mean_sojourn_ms - w_ms).abs() < 5e-6, "{q:?}");
    assert!((q.p_wait - p_wait).abs() < 5e-6, "{q:?}");
    assert_eq!(s.mean_wait_ms, q.mean_wait_ms);
    assert_eq!(s.p_wait, q.p_wait);
    let reports = replicate(&m, &opts(61.0, 1.0));
    let w: Vec<f64> = reports
        .iter()
        .map(|r| r.entries[0].latency.mean_ms)
        .collect();
    assert_matches(&format!("{name} W [ms]"), &w, w_ms, 1e-3 * w_ms, 0.05);
}

/// Round robin over two one-worker replicas deals a Poisson stream out in turn: each replica
/// sees Erlang-2 gaps, an E2/M/1 queue (W = 3.84 ms at ρ = 0.8), not the M/M/1 the shadow
/// claimed (5.0 ms).
#[test]
fn round_robin_over_replicas_is_erlang_arrivals() {
    check_queue_model(
        r#"Topology(
            workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 1600))],
            services: { "s": (replicas: 2, workers: 1, balancer: RoundRobin,
                              work: Exp(mean: "1ms")) },
        )"#,
        "E2/M/c",
        3.843_980,
        0.739_853,
    );
}

/// Evenly spaced arrivals into one worker: D/M/1 (W = 2.69 ms at ρ = 0.8), not M/M/1.
#[test]
fn constant_arrivals_are_a_d_m_1_queue() {
    check_queue_model(
        r#"Topology(
            workload: [(name: "e", entry: "s", arrivals: Constant(per_second: 800))],
            services: { "s": (workers: 1, work: Exp(mean: "1ms")) },
        )"#,
        "D/M/c",
        2.692_731,
        0.628_630,
    );
}

/// Where the arrivals into a replica are not a known renewal process there is no exact
/// model, only the estimate: a service called by another, one behind a least-outstanding
/// balancer, one fed by two constant streams, one whose rate changes.
#[test]
fn no_exact_queue_model_where_the_arrivals_are_unknown() {
    let a = model(
        r#"Topology(
            workload: [
                (name: "e", entry: "front", arrivals: Poisson(per_second: 100)),
                (name: "lo", entry: "least", arrivals: Poisson(per_second: 100)),
                (name: "c1", entry: "two", arrivals: Constant(per_second: 100)),
                (name: "c2", entry: "two", arrivals: Constant(per_second: 70)),
                (name: "ramp", entry: "ramped", arrivals: Poisson(per_second: 100,
                    profile: [(at: "30s", per_second: 200)])),
                (name: "plain", entry: "plain", arrivals: Poisson(per_second: 100)),
            ],
            services: {
                "front": (work: Exp(mean: "1ms"), steps: [Call(to: "back")]),
                "back": (work: Exp(mean: "1ms")),
                "least": (replicas: 2, balancer: LeastOutstanding, work: Exp(mean: "1ms")),
                "two": (work: Exp(mean: "1ms")),
                "ramped": (work: Exp(mean: "1ms")),
                "plain": (work: Exp(mean: "1ms")),
            },
        )"#,
    )
    .analyze();
    for s in &a.services[..5] {
        assert!(s.queue_model.is_none(), "{s:?}");
        assert!(s.mean_wait_ms.is_finite() && s.mean_wait_ms > 0.0, "{s:?}");
        assert!(s.p_wait > 0.0 && s.p_wait < 1.0, "{s:?}");
    }
    // The control: Poisson arrivals into one replica are M/M/1, and its wait is the model's.
    let plain = &a.services[5];
    let q = plain.queue_model.as_ref().unwrap();
    assert_eq!(q.model, "M/M/c");
    // M/M/1 at ρ = 0.1, 1 ms: Wq = ρ/(μ − λ) = 0.1/900 s, P(wait) = ρ.
    assert!((plain.mean_wait_ms - 0.1 / 0.9).abs() < 1e-9, "{plain:?}");
    assert!((plain.p_wait - 0.1).abs() < 1e-12, "{plain:?}");
}

/// M/G/1 where the work is not exponential: Pollaczek–Khinchine, Wq = ρ(1 + C²)/(2(1 − ρ))·E[S]:
/// M/D/1 at ρ = 0.8 waits 2 ms.
#[test]
fn one_worker_with_general_work_is_m_g_1() {
    let a = model(
        r#"Topology(
            workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 800))],
            services: { "s": (work: Const("1ms")) },
        )"#,
    )
    .analyze();
    let q = a.services[0].queue_model.as_ref().unwrap();
    assert_eq!(q.model, "M/G/1");
    assert!((q.mean_wait_ms - 2.0).abs() < 1e-9, "{q:?}");
    assert!((q.mean_sojourn_ms - 3.0).abs() < 1e-9, "{q:?}");
    assert!((q.mean_in_system - 2.4).abs() < 1e-9, "{q:?}");
    assert!((q.p_wait - 0.8).abs() < 1e-12, "{q:?}");
}

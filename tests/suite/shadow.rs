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

/// A bundled topology, compiled.
fn bundled(name: &str) -> microsim::Model {
    microsim::load(crate::common::root().join(format!("topologies/{name}.ron")))
        .unwrap_or_else(|e| panic!("{name}.ron: {e}"))
}

/// cascade.ron: reviews runs 50× slower from 2 m to 5 m. The shadow said "no lints" and a
/// peak ρ of 0.019 for reviews; during the slowdown reviews runs at ρ = 60/s × 1 s / 64 =
/// 0.94, and api, whose workers wait on it, saturates (ρ = 200/s × (5 ms + 0.3 × ≥ 1 s) / 24
/// ≥ 2.5), and so does web above it.
#[test]
fn the_shadow_follows_the_fault_timeline_of_a_cascade() {
    let a = bundled("cascade").analyze();
    // Without faults, as before.
    assert!((a.services[2].utilization - 60.0 * 0.020 / 64.0).abs() < 1e-12);
    let spans: Vec<(f64, f64)> = a.phases.iter().map(|p| (p.from_s, p.to_s)).collect();
    assert_eq!(spans, [(10.0, 120.0), (120.0, 300.0), (300.0, 720.0)]);
    assert!(a.phases[0].faults.is_empty() && a.phases[2].faults.is_empty());
    assert_eq!(a.phases[1].faults, ["slowdown reviews ×50"]);
    let during = &a.phases[1];
    let rho = |name: &str| {
        during
            .services
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .utilization
    };
    assert!(
        (rho("reviews") - 60.0 * 1.0 / 64.0).abs() < 1e-12,
        "{during:?}"
    );
    assert!(
        rho("api") >= 200.0 * (0.005 + 0.3 * 1.0) / 24.0,
        "{during:?}"
    );
    assert!(rho("web") > 1.0, "{during:?}");
    // Outside the fault the phases are the steady shadow.
    assert_eq!(
        a.phases[0].services[2].utilization,
        a.services[2].utilization
    );
    let saturated: Vec<&str> = lints(&a, "saturated-during-fault")
        .iter()
        .map(|l| l.path.as_str())
        .collect();
    assert_eq!(saturated, ["services[web]", "services[api]"]);
    let api = lints(&a, "saturated-during-fault")[1];
    assert!(
        api.message
            .contains("from 2m to 5m while slowdown reviews ×50 is in force"),
        "{}",
        api.message
    );
    // Availability: 1 outside the slowdown; during it, api serves about its capacity (a
    // share 1/ρ) within web's timeout. Weighted by the requests of each phase.
    let inside = during.entries[0].availability;
    assert!((inside - 1.0 / rho("api")).abs() < 1e-9, "{during:?}");
    let expected = (110.0 + 180.0 * inside + 420.0) / 710.0;
    assert!((a.entries[0].availability - expected).abs() < 1e-12);
}

/// order-hybrid.ron: fulfilment is 5× slower from 2 m to 3 m. Its group of three consumers
/// then processes 3 / (5 × 40 ms) = 15 messages/s of the 40 published, so its lag grows by
/// 25/s: 1,500 messages after the minute, drained at 75 − 40 = 35/s in about 43 s. The shadow
/// said lag growth 0.
#[test]
fn lag_grows_while_a_consumer_is_slowed() {
    let a = bundled("order-hybrid").analyze();
    assert_eq!(a.topics[0].groups[0].lag_growth_per_s, 0.0);
    let during = a
        .phases
        .iter()
        .find(|p| p.faults == ["slowdown fulfilment ×5"])
        .expect("a phase of the slowdown");
    assert_eq!((during.from_s, during.to_s), (120.0, 180.0));
    let g = &during.groups[0];
    assert_eq!(
        (g.topic.as_str(), g.service.as_str()),
        ("order-placed", "fulfilment")
    );
    assert!((g.capacity_per_s - 15.0).abs() < 1e-9, "{g:?}");
    assert!((g.lag_growth_per_s - 25.0).abs() < 1e-9, "{g:?}");
    // Notifications are not slowed: no growth.
    assert_eq!(during.groups[1].lag_growth_per_s, 0.0);
    let found = lints(&a, "lag-grows-during-fault");
    assert_eq!(found.len(), 1, "{:?}", a.lints);
    assert_eq!(found[0].path, "topics[order-placed].subscribers[0]");
    for part in ["25.0 messages/s", "about 1500 messages", "about 42.9 s"] {
        assert!(found[0].message.contains(part), "{}", found[0].message);
    }
    // A service that only consumes is not linted as saturated: its backlog is the lag.
    assert!(
        lints(&a, "saturated-during-fault").is_empty(),
        "{:?}",
        a.lints
    );
}

/// tests/data/side-by-side.ron (the old comparison.ron: the same flow sync, async and hybrid
/// in one topology): every email service crashes from 60 s to 90 s. The synchronous checkout
/// needs s-email, so it fails for those 30 s of the 170 s measured: availability 1 − 30/170,
/// where the shadow said 1.0. The asynchronous ones only build lag. The simulation agrees:
/// about 17,000 requests, 3,000 of them in the outage (Poisson: ± 55), so within 0.01.
#[test]
fn a_scheduled_outage_costs_availability_in_the_shadow() {
    let m = microsim::load(crate::common::root().join("tests/data/side-by-side.ron")).unwrap();
    let a = m.analyze();
    let expected = 1.0 - 30.0 / 170.0;
    assert!(
        (a.entries[0].availability - expected).abs() < 1e-12,
        "{:?}",
        a.entries[0]
    );
    assert_eq!(a.entries[1].availability, 1.0);
    assert_eq!(a.entries[2].availability, 1.0);
    let during = &a.phases[1];
    assert_eq!(during.entries[0].availability, 0.0);
    let email: Vec<(&str, f64)> = during
        .groups
        .iter()
        .filter(|g| g.service.ends_with("email"))
        .map(|g| (g.service.as_str(), g.lag_growth_per_s))
        .collect();
    assert_eq!(email, [("a-email", 100.0), ("h-email", 100.0)]);
    assert_eq!(
        lints(&a, "lag-grows-during-fault").len(),
        2,
        "{:?}",
        a.lints
    );
    let r = m.run(&microsim::RunOptions::default()).unwrap();
    let simulated = r.entry("sync").unwrap().availability;
    assert!(
        (simulated - expected).abs() < 0.01,
        "simulated {simulated}, analytic {expected}"
    );
}

/// A fan-out waits for its slowest branch: three exponential branches with means 8, 4 and
/// 2 ms take E[max] = 8 + 4 + 2 − 8/3 − 8/5 − 4/3 + 8/7 = 9.543 ms, not the largest mean
/// (8 ms), which the shadow took. The simulation agrees (10 × 60 s at 100/s, 64 workers so
/// that nothing waits: the mean of 60,000 maxima has a relative s.e. near 0.3 %).
#[test]
fn a_fan_out_takes_the_slowest_branch() {
    let m = model(
        r#"Topology(
            workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 100))],
            services: { "s": (workers: 64, steps: [Parallel(branches: [
                [Work(Exp(mean: "8ms"))], [Work(Exp(mean: "4ms"))], [Work(Exp(mean: "2ms"))],
            ])]) },
        )"#,
    );
    let expected = 8.0 + 4.0 + 2.0 - 8.0 / 3.0 - 8.0 / 5.0 - 4.0 / 3.0 + 8.0 / 7.0;
    let a = m.analyze();
    assert!(
        (a.services[0].mean_holding_ms - expected).abs() < 1e-9,
        "{:?}",
        a.services[0]
    );
    assert!((expected - 9.542_857).abs() < 1e-6);
    let reports = replicate(&m, &opts(61.0, 1.0));
    let w: Vec<f64> = reports
        .iter()
        .map(|r| r.entries[0].latency.mean_ms)
        .collect();
    assert_matches("E[max] [ms]", &w, expected, 1e-3 * expected, 0.05);
}

/// Timeouts count in the availability: a call with a 5 ms timeout to an M/M/1 callee at
/// λ = 500/s, μ = 1000/s times out when the sojourn exceeds 5 ms, with probability
/// e^{−(μ−λ)·5 ms} = e^{−2.5} = 0.0821; the shadow said availability 1. The caller does
/// no work, so its calls arrive at the callee as a Poisson stream. Simulated: 10 × 60 s
/// (300,000 calls; timeouts come in bursts, so the s.e. across replications is near 1.2 ·
/// 10⁻³), within 5 s.e., which must be under 10 % of q.
#[test]
fn timeouts_count_in_the_availability_shadow() {
    let m = model(
        r#"Topology(
            workload: [(name: "e", entry: "front", arrivals: Poisson(per_second: 500))],
            services: {
                "front": (workers: 64, steps: [Call(to: "back", timeout: "5ms")]),
                "back": (workers: 1, work: Exp(mean: "1ms")),
            },
        )"#,
    );
    let a = m.analyze();
    let q = (-2.5f64).exp();
    assert!(
        (a.calls[0].timeout_probability - q).abs() < 1e-12,
        "{:?}",
        a.calls[0]
    );
    assert!(
        (a.entries[0].availability - (1.0 - q)).abs() < 1e-12,
        "{:?}",
        a.entries[0]
    );
    let reports = replicate(&m, &opts(61.0, 1.0));
    let p: Vec<f64> = reports
        .iter()
        .map(|r| r.entries[0].outcomes.timeout as f64 / r.entries[0].outcomes.total() as f64)
        .collect();
    assert_matches("P(timeout)", &p, q, 0.0, 0.1);
}

/// The end-to-end latency of a customer of a network of work queues (Jackson: Σ visits ×
/// sojourn): M2, five M/M/4 stations in tandem, 5 × 3.8002 = 19.001 ms; M3, twenty M/M/2
/// stations with feedback, Σ L_i / λ₀ = 54.902 ms over all entry points (docs/semantics.md,
/// *Reference models M1–M3*; the published values are rounded to 3 decimals).
#[test]
fn networks_of_work_queues_have_an_end_to_end_latency() {
    let a = bundled("m2").analyze();
    let e2e = a.entries[0]
        .end_to_end_ms
        .expect("a network of work queues");
    assert!((e2e - 19.001).abs() < 5e-4, "{e2e}");
    let a = bundled("m3").analyze();
    let (mut weighted, mut rate) = (0.0, 0.0);
    for e in &a.entries {
        weighted += e.rate_per_s * e.end_to_end_ms.expect("a network of work queues");
        rate += e.rate_per_s;
    }
    let mean = weighted / rate;
    assert!((mean - 54.902).abs() < 5e-4, "{mean}");
    // Each is Σ L_i / λ₀ from the queues' own predictions too (Little's law), up to the
    // 10⁻⁹ to which the traffic equations settle.
    let little: f64 = a
        .queues
        .iter()
        .map(|q| q.rate_per_s * q.sojourn_ms.unwrap())
        .sum::<f64>()
        / rate;
    assert!((mean - little).abs() < 1e-7 * little, "{mean} vs {little}");
    // Not a single customer: a processing that sends two messages, or one to a topic.
    let a = model(
        r#"Topology(
            workload: [(name: "e", send: "q1", arrivals: Poisson(per_second: 10))],
            services: {
                "s1": (work: Exp(mean: "1ms"), steps: [Send(queue: "q2"), Send(queue: "q2")]),
                "s2": (work: Exp(mean: "1ms")),
            },
            queues: { "q1": (service: "s1"), "q2": (service: "s2") },
        )"#,
    )
    .analyze();
    assert_eq!(a.entries[0].end_to_end_ms, None);
}

/// `microsim check` prints the fault timeline (what each fault changes), the wait for a
/// worker per service, the timeout chances and the end-to-end latency of networks of work
/// queues.
#[test]
fn check_prints_the_shadow_per_phase_and_the_waits() {
    let words = |text: &str, line: &str| {
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == line)
    };
    let m = bundled("cascade");
    let text = microsim::render::render_analysis(&m, &m.analyze());
    for line in [
        "topologies/cascade.ron: valid · 3 services · 2 sync calls · 1 entry point",
        "10s → 2m no fault",
        "2m → 5m slowdown reviews ×50",
        "reviews ρ 0.938 (0.019)",
        "api ρ 3.329 (0.092), saturated",
        "5m → 12m no fault",
    ] {
        let line = line.replace("topologies/cascade.ron", m.origin());
        assert!(words(&text, &line), "no {line:?} in\n{text}");
    }
    let m = bundled("lag");
    let text = microsim::render::render_analysis(&m, &m.analyze());
    assert!(
        words(
            &text,
            "signed-up → welcome-mail lag grows 100.0/s (capacity 0.0/s for 100.0/s): about 3,000 messages"
        ),
        "{text}"
    );
    let m = bundled("mm1");
    let text = microsim::render::render_analysis(&m, &m.analyze());
    assert!(words(&text, "server 4.000 0.8000 M/M/c"), "{text}");
    let m = bundled("m2");
    let text = microsim::render::render_analysis(&m, &m.analyze());
    assert!(words(&text, "clients 19.001 ms"), "{text}");
    let m = bundled("deadlines");
    let text = microsim::render::render_analysis(&m, &m.analyze());
    assert!(
        text.contains("Timeouts (chance that an attempt outlasts"),
        "{text}"
    );
}

/// A run shortened by an option is analysed over its own window: a fault after the shortened
/// end does not count in the shadow attached to the report (cascade.ron's slowdown runs from
/// 2m to 5m; a 1m run never sees it), while the file's window does count it.
#[test]
fn the_shadow_of_a_run_covers_the_window_the_run_measured() {
    let model = microsim::load("topologies/cascade.ron").unwrap();
    let whole = model.analyze().entries[0].availability;
    assert!(whole < 0.9, "the slowdown is in the file's window: {whole}");
    let options = microsim::RunOptions {
        duration: Some(microsim::time::SimDuration::from_secs(60)),
        ..Default::default()
    };
    let report = model.run(&options).unwrap();
    let short = report.analysis.entries[0].availability;
    assert!(short > 0.99, "no fault before 1m: {short}");
}

/// availability.ron's orders → db alone: db's replicas fail independently (MTTF 20 s, MTTR
/// 5 s: each down p = 0.2 of the time, for seconds), orders-api retries `unavailable` on
/// another replica, 4 simulated hours per run (about 570 failure cycles per replica).
const ORDERS_DB: &str = r#"Topology(
    name: "orders-db",
    run: (duration: "4h", warmup: "1m", seed: 1, bucket: "10s"),
    workload: [(name: "orders", entry: "orders-api", arrivals: Poisson(per_second: 2))],
    services: {
        "orders-api": (replicas: 2, workers: 8, work: Exp(mean: "1ms"),
                       steps: [Call(to: "db", timeout: "1s", retry: (attempts: 3))]),
        "db":         (replicas: 1, workers: 8, work: Exp(mean: "5ms"),
                       failures: (mttf: "20s", mttr: "5s")),
    },
)"#;

/// A retry goes to one of the n − 1 replicas other than the previous attempt's, uniformly
/// (`pick_replica`): with n ≥ 3 it can return to a replica already tried. So k attempts do
/// not reach min(k, n) distinct replicas, and the shadow's chance that all of them fail is
/// p·E[(D/(n − 1))^(k − 1)], D ~ Binomial(n − 1, p) the other replicas down: p² = 0.04 for
/// k = 2 whatever n ≥ 2; for k = 3, p²(p + (1 − p)/(n − 1)): 0.04 (n = 2), 0.024 (n = 3; the
/// report that started this: 0.976, not 0.992), 0.018667 (n = 4); p = 0.2 for one replica.
/// Attempts per call: 1 + p (k = 2) and 1 + p + p² (k = 3) with two replicas or more, but
/// 1 + p(k − 1) with one (every retry meets the same outage), not the (1 − p^k)/(1 − p) of
/// independent attempts.
///
/// Simulated: 10 replications per case (microsim::experiment, the same seeds in every case),
/// the Student-t interval of the mean at 99.9 % (t₉ = 4.78 s.e.): sixteen checks (eight
/// cases, two metrics) would fail a correct shadow somewhere 1 time in 60 at that level,
/// against 56 % at 95 %. No bias allowance: an attempt to a down replica is refused at once
/// and retried at once (no backoff), so the failed attempts of a call all see the same
/// instant; the only other difference is calls caught inside a replica when it crashes,
/// ~10⁻⁴ of them (2.4 attempts/s × 5 ms × one crash per 25 s per replica), ten times below
/// the s.e. The interval must also be narrow enough to mean something: under ±2 % of the
/// value (one replica's time-average over 570 cycles alone has a s.d. of 0.0095 per run), and
/// under half the distance to the other prediction where it differs: min(k, n) distinct
/// replicas, 0.992 for k = 3 and n = 3, 4; independent attempts, 1.24 attempts for n = 1 and
/// k = 3. Measured (95 % CIs of the availability): n = 1: 0.8008 ± 0.0064; n = 2: 0.9592 ±
/// 0.0039; k = 2: 0.9596 ± 0.0021 (n = 3), 0.9595 ± 0.0025 (n = 4); k = 3: 0.9758 ± 0.0020
/// (n = 3, shadow 0.976), 0.9808 ± 0.0016 (n = 4, shadow 0.98133); attempts per call for
/// n = 1, k = 3: 1.398 ± 0.013 (shadow 1.4).
#[test]
fn retries_to_other_replicas_match_the_simulation() {
    use microsim::experiment::{run, Arm, Axis, Plan};
    use microsim::stats::Estimate;

    let base = model(ORDERS_DB);
    let plan = Plan {
        arms: vec![Arm {
            name: "orders-db".into(),
            model: base,
        }],
        axes: vec![
            Axis::parse("services[db].replicas=1,2,3,4").unwrap(),
            Axis::parse("services[orders-api].steps[0].retry.attempts=2,3").unwrap(),
        ],
        reps: 10,
        master_seed: 1,
        options: microsim::RunOptions::default(),
        targets: vec![],
        recovery: Default::default(),
    };
    let cells = plan.cells().unwrap();
    let result = run(&plan).unwrap();
    assert_eq!(result.cells.len(), 8);
    let p: f64 = 0.2;
    for cell in &cells {
        let point: Vec<String> = cell
            .point
            .iter()
            .zip(&plan.axes)
            .map(|(&i, a)| a.values[i].clone())
            .collect();
        let (n, k): (u32, i32) = (point[0].parse().unwrap(), point[1].parse().unwrap());
        let simulated = result
            .cells
            .iter()
            .find(|c| c.point == point)
            .unwrap_or_else(|| panic!("no result for {point:?}"));
        assert_eq!(simulated.failed_runs, 0);

        // The shadow against its closed form.
        let (fail, attempts) = match (n, k) {
            (1, _) => (p, 1.0 + p * f64::from(k - 1)),
            (_, 2) => (p * p, 1.0 + p),
            _ => (p * p * (p + (1.0 - p) / f64::from(n - 1)), 1.0 + p + p * p),
        };
        let a = cell.model.analyze();
        let case = format!("n = {n}, k = {k}");
        assert!(
            (a.entries[0].availability - (1.0 - fail)).abs() < 1e-12,
            "{case}: shadow {} vs {}",
            a.entries[0].availability,
            1.0 - fail
        );
        assert!((a.calls[0].availability - (1.0 - fail)).abs() < 1e-12);
        assert!((a.calls[0].expected_attempts - attempts).abs() < 1e-12);
        assert_eq!(a.calls[0].estimate, None, "{case}: round robin is exact");
        let distinct = 1.0 - p.powi(k.min(n as i32));
        let independent = (1.0 - p.powi(k)) / (1.0 - p);

        // The shadow against the simulation.
        for (metric, shadow, other) in [
            ("entries[orders].availability", 1.0 - fail, distinct),
            (
                "calls[orders-api → db].amplification",
                attempts,
                independent,
            ),
        ] {
            let values = simulated.values(metric);
            let e = Estimate::with_confidence(&values, 0.999);
            let (lo, hi) = e.interval().unwrap();
            let half = e.half_width.unwrap();
            let ci95 = simulated.metric(metric).unwrap().ci.unwrap();
            println!(
                "{case}: {metric}: shadow {shadow:.5}, simulated {:.5}, 95 % CI [{:.5}, {:.5}], \
                 99.9 % CI [{lo:.5}, {hi:.5}]",
                e.mean, ci95[0], ci95[1]
            );
            assert!(
                half < 0.02 * shadow,
                "{case}: {metric}: interval ±{half} too wide"
            );
            if (other - shadow).abs() > 1e-9 {
                assert!(
                    half < (other - shadow).abs() / 2.0,
                    "{case}: ±{half} cannot tell {shadow} from {other}"
                );
            }
            assert!(
                (lo..=hi).contains(&shadow),
                "{case}: {metric}: shadow {shadow} outside the simulated 99.9 % interval \
                 [{lo}, {hi}] (runs {values:?})"
            );
        }
    }
}

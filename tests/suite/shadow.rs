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
    assert!(found[0].message.contains("250.0 messages/s"), "{}", found[0].message);
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

//! The example programs (`examples/`), each a lesson a teacher can assign: the test runs the
//! same function the program runs and checks the result it prints against theory.
//!
//! Each example is compiled into this suite as a module (its `main` unused here), so the
//! test and the program cannot drift apart, and no example binary has to be built and run.

#[allow(dead_code)]
#[path = "../../examples/availability_chain.rs"]
mod availability_chain;
#[allow(dead_code)]
#[path = "../../examples/hockey_stick.rs"]
mod hockey_stick;
#[allow(dead_code)]
#[path = "../../examples/retries_vs_budget.rs"]
mod retries_vs_budget;
#[allow(dead_code)]
#[path = "../../examples/sync_vs_async.rs"]
mod sync_vs_async;

use crate::common::K_SE;

/// Five services at 99 %: the product is 0.99⁵ = 0.95099, and the mean of 10 replications
/// (60 s at 200/s: 11,000 requests each) lies within [`K_SE`] standard errors of it (t with
/// 9 degrees of freedom: a correct engine fails this about once in 1,400 seeds).
#[test]
fn availability_chain_matches_the_product() {
    let c = availability_chain::lesson().unwrap();
    assert!(
        (c.analytic - 0.99f64.powi(5)).abs() < 1e-9,
        "{}",
        c.analytic
    );
    let tol = K_SE * c.se;
    assert!(tol < 0.005, "tolerance {tol}: too few samples");
    assert!(
        (c.simulated - c.analytic).abs() <= tol,
        "simulated {} vs {}",
        c.simulated,
        c.analytic
    );
    assert!(c.ci[0] < c.simulated && c.simulated < c.ci[1]);
    let shown = availability_chain::describe(&c);
    assert!(shown.contains("0.99^5 = 0.9510"), "{shown}");
}

/// M/M/1 with μ = 1000/s: W = 1 / (μ − λ) at every rate of the sweep, within [`K_SE`]
/// standard errors of 5 replications (t with 4 degrees of freedom: P(|t| > 5) ≈ 0.008 per
/// point) and a tolerance below 15 % of W; the p99 target of 10 ms holds at 500/s (theory
/// 9.2 ms) and breaks at 600/s (11.5 ms).
#[test]
fn hockey_stick_follows_the_mm1_formula() {
    let h = hockey_stick::lesson().unwrap();
    assert_eq!(h.points.len(), 9);
    for p in &h.points {
        let tol = K_SE * p.se_ms;
        assert!(
            tol < 0.15 * p.theory_ms,
            "λ {}: tolerance {tol} ms is too wide",
            p.rate
        );
        assert!(
            (p.simulated_ms - p.theory_ms).abs() <= tol,
            "λ {}: W {} ms vs {} ms",
            p.rate,
            p.simulated_ms,
            p.theory_ms
        );
    }
    assert_eq!(h.knee.0.as_deref(), Some("600"));
    assert_eq!(h.knee.1.as_deref(), Some("500"));
    let shown = hockey_stick::describe(&h);
    assert!(
        shown.contains("holds up to 500/s and breaks at 600/s"),
        "{shown}"
    );
}

/// The storm outlives its trigger: no client request succeeds in the last 30 s, and every
/// request costs the database about 20 queries; with the budget, the last 30 s are fully
/// available and each request costs about one query. Both states are far apart (the system
/// is bistable), so the bounds have a wide margin.
#[test]
fn retries_vs_budget_shows_a_metastable_storm() {
    let arms = retries_vs_budget::lesson().unwrap();
    let (storm, budget) = (&arms[0], &arms[1]);
    assert_eq!(
        (storm.name.as_str(), budget.name.as_str()),
        ("retries", "budget")
    );
    assert!(storm.after < 0.01, "storm: {}", storm.after);
    assert!(storm.amplification > 10.0, "storm: {}", storm.amplification);
    assert!(budget.after > 0.99, "budget: {}", budget.after);
    assert!(
        budget.amplification < 1.5,
        "budget: {}",
        budget.amplification
    );
}

/// Sync: every sign-up fails while e-mail is down, 30 s of the 175 s measured: availability
/// 1 − 30/175 = 0.829 (one run of 8,750 requests: the share arriving in the outage has a
/// standard deviation of about 0.004; the tolerance 0.02 is 5 of them). Async: every sign-up
/// succeeds and takes only the local work (median 3 ms × ln 2 = 2.08 ms); e-mail's lag
/// reaches the 50/s × 30 s = 1,500 messages of the outage (Poisson: ± 5 × √1500 ≈ 190) and
/// drains before the end.
#[test]
fn sync_vs_async_trades_availability_for_lag() {
    let v = sync_vs_async::lesson().unwrap();
    let (sync, events) = (&v[0], &v[1]);
    assert!(
        (sync.availability - (1.0 - 30.0 / 175.0)).abs() < 0.02,
        "sync availability {}",
        sync.availability
    );
    assert_eq!(events.availability, 1.0);
    assert!(
        (events.p50_ms / (3.0 * 2f64.ln()) - 1.0).abs() < 0.1,
        "async p50 {}",
        events.p50_ms
    );
    assert!(
        sync.p50_ms > 5.0 * events.p50_ms,
        "sync p50 {}",
        sync.p50_ms
    );
    assert!(
        (1310..=1690).contains(&events.max_lag),
        "max lag {}",
        events.max_lag
    );
    assert!(
        events.lag_at_end < 50,
        "lag at the end {}",
        events.lag_at_end
    );
    assert_eq!((sync.max_lag, sync.lag_at_end), (0, 0));
}

//! Availability: the simulated request-based availability against the analytic product
//! (docs/semantics.md, *Availability*) and against the closed form computed here by hand.
//!
//! Tolerance: every model here is lightly loaded and has no timeouts or bounded queues, so a
//! request fails only through the services' independent error draws. Each request is then an
//! independent Bernoulli trial and the binomial standard error the report gives,
//! sqrt(a(1 − a)/n), is exact; simulated and analytic availability must agree within
//! `K_SE` = 5 of them (a false alarm probability of 6·10⁻⁷ per check). Each check also
//! requires that 5 s.e. is below half the distance from the expected value to the nearest
//! plausible wrong answer (one service too many or too few in the chain, a probability or
//! a weight ignored, ...), so that such a mistake cannot pass.

use crate::common::{assert_exact, bundled, model, K_SE};
use microsim::report::EntryReport;
use microsim::{Report, RunOptions};

/// Checks an entry point's simulated availability against `expected`, which must also be the
/// analytic shadow's value; `nearest_wrong` is the closest value a plausible mistake would
/// give, and the tolerance must be below half the distance to it.
fn check(report: &Report, entry: &str, expected: f64, nearest_wrong: f64) {
    let i = report.entries.iter().position(|e| e.name == entry).unwrap();
    let e: &EntryReport = &report.entries[i];
    let analytic = report.analysis.entries[i].availability;
    assert_exact(
        &format!("analytic availability of {entry}"),
        analytic,
        expected,
    );
    assert_eq!(
        e.outcomes.timeout + e.outcomes.rejected,
        0,
        "{entry}: only errors should fail a request here"
    );
    let tol = K_SE * e.availability_se;
    let max_tol = (expected - nearest_wrong).abs() / 2.0;
    assert!(
        tol < max_tol,
        "{entry}: {} answers give a tolerance of {tol:.4}, wider than {max_tol:.4}: too few to \
         tell {expected:.4} from {nearest_wrong:.4}",
        e.outcomes.total()
    );
    assert!(
        (e.availability - expected).abs() <= tol,
        "{entry}: simulated availability {:.5} ± {:.5} (s.e.) vs analytic {expected:.5}",
        e.availability,
        e.availability_se
    );
}

/// Five services in a chain, each failing 1 %: 0.99⁵ = 0.95099.
#[test]
fn chain_of_five_is_the_product() {
    let m = model(
        r#"Topology(
        run: (duration: "201s", warmup: "1s", seed: 3),
        workload: [(name: "main", entry: "a", arrivals: Poisson(per_second: 400))],
        services: {
            "a": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "b")]),
            "b": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "c")]),
            "c": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "d")]),
            "d": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01, steps: [Call(to: "e")]),
            "e": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01),
        },
    )"#,
    );
    let report = m.run(&RunOptions::default()).unwrap();
    assert_eq!(
        report.analysis.entries[0].required,
        ["a", "b", "c", "d", "e"]
    );
    // Nearest mistakes: a service lost or counted twice (0.99⁴ is the closer one).
    check(&report, "main", 0.99f64.powi(5), 0.99f64.powi(4));
    // A service draws its own error after its steps, so every request reaches the end of the
    // chain (up to the few in flight at the warm-up and end boundaries).
    let a = report.service("a").unwrap().arrivals;
    let e = report.service("e").unwrap().arrivals;
    assert!(a.abs_diff(e) <= 10, "a {a} vs e {e}: arrivals should match");
}

/// The bundled chain5 topology shows the product it promises.
#[test]
fn bundled_chain5() {
    let path = bundled()
        .into_iter()
        .find(|p| p.ends_with("chain5.ron"))
        .unwrap();
    let report = microsim::load(path)
        .unwrap()
        .run(&RunOptions::default())
        .unwrap();
    check(&report, "users", 0.99f64.powi(5), 0.99f64.powi(4));
}

/// A call made with probability 0.5 to a callee of availability 0.9 contributes
/// 1 − 0.5·0.1 = 0.95: A = 0.98 × 0.95 = 0.931.
#[test]
fn optional_call_weighs_by_its_probability() {
    let m = model(
        r#"Topology(
        run: (duration: "201s", warmup: "1s", seed: 4),
        workload: [(name: "main", entry: "a", arrivals: Poisson(per_second: 300))],
        services: {
            "a": (workers: 8, work: Exp(mean: "1ms"), errors: 0.02,
                  steps: [Call(to: "b", probability: 0.5)]),
            "b": (workers: 8, work: Exp(mean: "1ms"), errors: 0.1),
        },
    )"#,
    );
    let report = m.run(&RunOptions::default()).unwrap();
    // Nearest mistake: the probability ignored, b always called (0.98 × 0.9 = 0.882).
    check(&report, "main", 0.98 * (1.0 - 0.5 * 0.1), 0.98 * 0.9);
    // Half the requests call b (binomial, 5 s.e.).
    let n = report.service("a").unwrap().arrivals as f64;
    let frac = report.calls[0].calls as f64 / n;
    assert!(
        (frac - 0.5).abs() <= K_SE * (0.25 / n).sqrt(),
        "fraction of requests calling b: {frac}"
    );
}

/// `on_failure: Ignore` makes a call's failures harmless: a → b (50 % errors, ignored) and
/// a → c (5 % errors, required) give A = 0.99 × 0.95 = 0.9405.
#[test]
fn ignored_failures_do_not_count() {
    let m = model(
        r#"Topology(
        run: (duration: "201s", warmup: "1s", seed: 5),
        workload: [(name: "main", entry: "a", arrivals: Poisson(per_second: 300))],
        services: {
            "a": (workers: 8, work: Exp(mean: "1ms"), errors: 0.01,
                  steps: [Call(to: "b", on_failure: Ignore), Call(to: "c")]),
            "b": (workers: 8, work: Exp(mean: "1ms"), errors: 0.5),
            "c": (workers: 8, work: Exp(mean: "1ms"), errors: 0.05),
        },
    )"#,
    );
    let report = m.run(&RunOptions::default()).unwrap();
    assert_eq!(report.analysis.entries[0].required, ["a", "c"]);
    // Nearest mistake: c ignored as well (0.99).
    check(&report, "main", 0.99 * 0.95, 0.99);
    // The ignored call really fails half the time, and the request goes on to c regardless.
    let to_b = &report.calls[0];
    let n = to_b.calls as f64;
    let frac = to_b.outcomes.error as f64 / n;
    assert!(
        (frac - 0.5).abs() <= K_SE * (0.25 / n).sqrt(),
        "error fraction of the ignored call: {frac}"
    );
    assert!(report.calls[1].calls.abs_diff(to_b.calls) <= 10);
}

/// `Parallel` needs every branch (0.9 × 0.8 = 0.72); `Choice` averages its branches by
/// weight (0.25 × 0.9 + 0.75 × 0.8 = 0.825).
#[test]
fn parallel_multiplies_and_choice_averages() {
    let m = model(
        r#"Topology(
        run: (duration: "201s", warmup: "1s", seed: 6),
        workload: [
            (name: "fan-out", entry: "par", arrivals: Poisson(per_second: 300)),
            (name: "pick", entry: "choice", arrivals: Poisson(per_second: 300)),
        ],
        services: {
            "par": (workers: 8, work: Exp(mean: "1ms"),
                    steps: [Parallel(branches: [[Call(to: "b")], [Call(to: "c")]])]),
            "choice": (workers: 8, work: Exp(mean: "1ms"),
                       steps: [Choice(branches: [(weight: 1, steps: [Call(to: "b")]),
                                                 (weight: 3, steps: [Call(to: "c")])])]),
            "b": (workers: 8, work: Exp(mean: "1ms"), errors: 0.1),
            "c": (workers: 8, work: Exp(mean: "1ms"), errors: 0.2),
        },
    )"#,
    );
    let report = m.run(&RunOptions::default()).unwrap();
    // Nearest mistakes: only the last branch counted (0.8); the weights ignored (0.85).
    check(&report, "fan-out", 0.9 * 0.8, 0.8);
    check(
        &report,
        "pick",
        0.25 * 0.9 + 0.75 * 0.8,
        0.5 * 0.9 + 0.5 * 0.8,
    );
}

/// The analytic shadow separates independent errors (retries multiply them away) from
/// outages (escaped only by reaching another replica): on availability.ron it predicts
/// 1 − 0.2³ for search, 1 − (1 − 0.8)² for browse (two replicas, retried elsewhere) and 0.8
/// for orders (one replica: retries hit the same outage). The simulated values are checked
/// against the same numbers in tests/suite/resilience.rs.
#[test]
fn analysis_keeps_outages_apart_from_independent_errors() {
    let model = microsim::load(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/availability.ron"),
    )
    .unwrap();
    let a = model.analyze();
    let get = |name: &str| {
        a.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.availability)
            .unwrap()
    };
    assert!((get("search") - (1.0 - 0.2f64.powi(3))).abs() < 1e-12);
    assert!((get("browse") - (1.0 - 0.2f64.powi(2))).abs() < 1e-12);
    assert!((get("orders") - 0.8).abs() < 1e-12);
}

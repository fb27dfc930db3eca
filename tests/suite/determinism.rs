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

//! Experiments: intervals that cover, merges that are exact, common random numbers that
//! pair, knees and recovery found where theory puts them.

use crate::common::{bundled, model};
use microsim::experiment::{
    run, run_shard, Arm, Axis, ExperimentResult, Plan, RecoverySpec, Shard, Target, Watch,
};
use microsim::time::SimDuration;
use microsim::{Model, RunOptions};
use std::sync::atomic::AtomicBool;

fn bundled_model(name: &str) -> Model {
    let path = bundled().into_iter().find(|p| p.ends_with(name)).unwrap();
    microsim::load(path).unwrap()
}

fn plan(arms: Vec<(&str, Model)>, reps: u32, options: RunOptions) -> Plan {
    Plan {
        arms: arms
            .into_iter()
            .map(|(n, m)| Arm {
                name: n.into(),
                model: m,
            })
            .collect(),
        axes: vec![],
        reps,
        master_seed: 42,
        options,
        targets: vec![],
        recovery: RecoverySpec::default(),
    }
}

fn secs(s: u64) -> Option<SimDuration> {
    Some(SimDuration::from_secs(s))
}

/// Runs the jobs of one shard (all of them with `Shard::ALL`) on `threads` threads.
fn shard(plan: &Plan, shard: Shard, threads: usize) -> microsim::experiment::Partial {
    let stop = AtomicBool::new(false);
    let watch = Watch {
        done: &|_, _| {},
        stop: &stop,
    };
    run_shard(plan, shard, threads, &watch).unwrap()
}

const MM1: &str = r#"Topology(
    workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: 500))],
    services: { "s": (work: Exp(mean: "1ms")) },
)"#;

/// The 95 % interval of the mean sojourn covers the true W = 2 ms (M/M/1, ρ = 0.5) in about
/// 95 % of independent experiments. 400 experiments of 4 replications (5 s each, 0.5 s
/// warm-up, ~2,250 requests per run): the binomial standard error of the coverage is
/// √(0.95 · 0.05 / 400) ≈ 0.011, so [0.917, 0.983] is ±3 standard errors. The i.i.d.
/// interval of one run (mean ± 1.96·s/√n over its requests, as if consecutive sojourn times
/// were independent; they are positively correlated) covers far less often: 196/400 = 0.49
/// with these seeds; the test asks for below 0.75, ten standard errors (≈ 0.025) above that.
#[test]
fn replication_intervals_cover_the_mm1_mean_about_95_percent_of_the_time() {
    let m = model(MM1);
    let options = RunOptions {
        duration: secs(5),
        warmup: Some(SimDuration::from_millis(500)),
        ..Default::default()
    };
    let experiments = 400u64;
    let mut covered = 0u64;
    let mut naive_covered = 0u64;
    for e in 0..experiments {
        let mut p = plan(vec![("mm1", m.clone())], 4, options.clone());
        p.master_seed = 1_000 + e;
        let r = run(&p).unwrap();
        let w = r.cells[0].metric("entries[main].latency.mean_ms").unwrap();
        let [lo, hi] = w.ci.unwrap();
        if lo <= 2.0 && 2.0 <= hi {
            covered += 1;
        }
        // The i.i.d. interval of one run: mean ± 1.96·s/√n over its requests sent after the
        // warm-up, as if consecutive sojourn times were independent.
        let one = RunOptions {
            seed: Some(5_000 + e),
            ..options.clone()
        };
        let (_, trace) = microsim::run_traced(&m, &one).unwrap();
        let warmup = options.warmup.expect("set above").as_nanos();
        let ms: Vec<f64> = trace
            .iter()
            .filter(|t| t.time.0 - t.latency.0 >= warmup)
            .map(|t| t.latency.0 as f64 / 1e6)
            .collect();
        let n = ms.len() as f64;
        let mean = ms.iter().sum::<f64>() / n;
        let sd = (ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = 1.96 * sd / n.sqrt();
        if (mean - half..=mean + half).contains(&2.0) {
            naive_covered += 1;
        }
    }
    let rate = covered as f64 / experiments as f64;
    let naive = naive_covered as f64 / experiments as f64;
    println!("coverage of the replication interval: {covered}/{experiments} = {rate:.3}");
    println!(
        "coverage of the i.i.d. interval of one run: {naive_covered}/{experiments} = {naive:.3}"
    );
    assert!((0.917..=0.983).contains(&rate), "coverage {rate}");
    assert!(naive < 0.75, "the i.i.d. interval covered {naive}");
}

#[test]
fn shards_merge_into_exactly_the_unsharded_result_whatever_the_threads() {
    let m = bundled_model("checkout.ron");
    let mut p = plan(
        vec![("base", m.clone())],
        5,
        RunOptions {
            duration: secs(30),
            warmup: secs(2),
            ..Default::default()
        },
    );
    p.arms.push(Arm {
        name: "fewer-payment-workers".into(),
        model: m
            .with_overrides(&["services[payment].workers=3".parse().unwrap()])
            .unwrap(),
    });
    p.axes = vec![Axis::parse("workload[shoppers].arrivals.per_second=150,250").unwrap()];
    let whole = ExperimentResult::merge(&[shard(&p, Shard::ALL, 1)]).unwrap();
    let two_threads = ExperimentResult::merge(&[shard(&p, Shard::ALL, 2)]).unwrap();
    assert!(
        whole.to_json() == two_threads.to_json(),
        "1 vs 2 threads differ"
    );
    let parts: Vec<_> = (0..3)
        .rev()
        .map(|i| shard(&p, Shard { index: i, count: 3 }, 2))
        .collect();
    // Each shard file travels as JSON.
    let parts: Vec<_> = parts
        .iter()
        .map(|s| microsim::experiment::from_json(&microsim::experiment::to_json(s)).unwrap())
        .collect();
    let merged = ExperimentResult::merge(&parts).unwrap();
    assert!(
        whole.to_json() == merged.to_json(),
        "3 shards merged differ from one run"
    );
    // And the result reads back as itself (compared as text: NaN is not equal to itself).
    let back = ExperimentResult::from_json(&whole.to_json()).unwrap();
    assert!(back.to_json() == whole.to_json());
    // The arms differ (the comparison is not of two identical models).
    assert!(whole.comparisons[1].rows.iter().any(|r| r.significant));
    // A missing or doubled shard is refused.
    let e = ExperimentResult::merge(&parts[..2]).unwrap_err();
    assert!(e.to_string().contains("shard 0/3 is missing"), "{e}");
    let doubled = [parts[0].clone(), parts[0].clone(), parts[1].clone()];
    assert!(ExperimentResult::merge(&doubled)
        .unwrap_err()
        .to_string()
        .contains("twice"));
}

#[test]
fn pooled_percentiles_are_those_of_all_the_samples() {
    let m = model(MM1);
    let p = plan(
        vec![("mm1", m.clone())],
        4,
        RunOptions {
            duration: secs(10),
            ..Default::default()
        },
    );
    let r = run(&p).unwrap();
    let mut all = microsim::metrics::LatencyHistogram::new();
    for rep in 0..4 {
        let report = m
            .run(&RunOptions {
                duration: secs(10),
                seed: Some(p.seed(rep)),
                ..Default::default()
            })
            .unwrap();
        all.merge(&report.entries[0].latency_histogram.histogram().unwrap());
    }
    assert_eq!(r.cells[0].pooled("main").unwrap(), &all.summary());
}

#[test]
fn a_topology_compared_with_itself_differs_by_exactly_zero() {
    let m = bundled_model("checkout.ron");
    let p = plan(
        vec![("a", m.clone()), ("b", m)],
        3,
        RunOptions {
            duration: secs(60),
            ..Default::default()
        },
    );
    let r = run(&p).unwrap();
    let c = &r.comparisons[0];
    assert!(!c.rows.is_empty());
    for row in &c.rows {
        assert_eq!(row.difference.mean, 0.0, "{}", row.metric);
        assert_eq!(row.difference.sd, 0.0, "{}", row.metric);
        assert!(!row.significant);
        assert!(
            row.verdict.starts_with("no significant difference"),
            "{}",
            row.verdict
        );
    }
}

/// With common random numbers, breaker.ron and no-breaker.ron (which differ only by the
/// breaker) are compared replication by replication; the paired interval of the difference
/// in availability is much narrower than the unpaired one the same runs give.
#[test]
fn pairing_narrows_the_breaker_comparison() {
    let p = plan(
        vec![
            ("no-breaker", bundled_model("no-breaker.ron")),
            ("breaker", bundled_model("breaker.ron")),
        ],
        8,
        RunOptions::default(),
    );
    let r = run(&p).unwrap();
    let row = r.comparisons[0]
        .rows
        .iter()
        .find(|row| row.metric == "entries[shoppers].availability")
        .unwrap();
    let paired = row.difference.half_width().unwrap();
    let unpaired = row.unpaired_half_width.unwrap();
    println!(
        "breaker − no-breaker availability: {:.4} ± {paired:.4} paired, ± {unpaired:.4} unpaired",
        row.difference.mean
    );
    assert!(row.significant && row.difference.mean > 0.05, "{row:?}");
    assert!(paired < unpaired, "paired {paired} vs unpaired {unpaired}");
    assert!(
        row.verdict
            .contains("breaker's shoppers availability is higher by"),
        "{}",
        row.verdict
    );
}

/// M/M/1 with μ = 1000/s: the sojourn time is exponential with rate μ − λ, so its p99 is
/// ln(100)/(μ − λ): 15.4 ms at λ = 700, 18.4 ms at 750, 23.0 ms at 800, 30.7 ms at 850. A
/// target p99 ≤ 20 ms first breaks at λ = 800. The pooled p99 of 6 runs of 60 s (about 280,000
/// requests per point) is within a few percent of the exact value, far from the 20 ms line at
/// both neighbours.
#[test]
fn the_knee_of_an_mm1_load_sweep_is_where_theory_puts_it() {
    let mut p = plan(
        vec![("mm1", model(MM1))],
        6,
        RunOptions {
            duration: secs(60),
            warmup: secs(5),
            ..Default::default()
        },
    );
    p.axes = vec![Axis::parse("workload[main].arrivals.per_second=700..850:50").unwrap()];
    p.targets = vec![Target::parse("p99<=20ms").unwrap()];
    let r = run(&p).unwrap();
    for (cell, lambda) in r.cells.iter().zip([700.0f64, 750.0, 800.0, 850.0]) {
        let exact = 100f64.ln() / (1000.0 - lambda) * 1e3;
        let got = cell.pooled("main").unwrap().p99_ms;
        assert!(
            (got / exact - 1.0).abs() < 0.08,
            "λ {lambda}: p99 {got} vs {exact}"
        );
    }
    let knee = &r.knees[0];
    assert_eq!(knee.breaks_at.as_deref(), Some("800"), "{knee:?}");
    assert_eq!(knee.last_holds.as_deref(), Some("750"));
}

/// retry-storm.ron is bistable: after its 15 s slowdown the retries sustain the overload and
/// availability never comes back; retry-storm-budget.ron, the same with a retry budget,
/// recovers. Every replication shows it.
#[test]
fn recovery_tells_a_storm_that_sustains_itself_from_one_that_ends() {
    let p = plan(
        vec![
            ("storm", bundled_model("retry-storm.ron")),
            ("budget", bundled_model("retry-storm-budget.ron")),
        ],
        4,
        RunOptions::default(),
    );
    let r = run(&p).unwrap();
    let storm = &r.cells[0].recovery[0];
    let budget = &r.cells[1].recovery[0];
    assert_eq!((storm.measured, storm.collapsed), (4, 4), "{storm:?}");
    assert_eq!((budget.measured, budget.collapsed), (4, 0), "{budget:?}");
    // Wilson intervals of 4/4 and 0/4 do not overlap.
    assert!(storm.collapsed_ci.unwrap()[0] > budget.collapsed_ci.unwrap()[1]);
    assert!(budget.recovery_s.mean.is_finite() && budget.recovery_s.mean < 60.0);
}

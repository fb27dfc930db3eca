//! Every lesson true: the claims of a bundled topology's header comment, each checked by
//! running the model.
//!
//! # How a claim is checked
//! The header of `checkout.ron` states means of 10 replications, rounded ("≈ 0.84", "about
//! 1,900"). The test runs the same experiment (10 replications of every variant, common random
//! numbers) and checks each number against its claim with [`about`]: the claim must lie within
//! half a unit of its last written digit (the rounding the comment used) plus the 95 % interval
//! of the mean across replications — and that interval must be narrower than the rounding, or
//! the check would mean nothing. A claim that one variant is better or worse than another is
//! checked by the paired difference (replication by replication, same seeds): its 95 % interval
//! must exclude 0 on the claimed side. With 10 replications an interval misses its mean about
//! one time in twenty per claim; the seeds are fixed, so a pass is reproducible, and a change of
//! the engine that moves a number by more than its rounding fails here.

use crate::common::root;
use microsim::experiment::{run, Arm, CellResult, ExperimentResult, Plan};
use microsim::stats::{paired_difference, Estimate};
use microsim::RunOptions;
use std::sync::OnceLock;

/// The arms of the checkout experiment: the file itself and the variants it declares.
const ARMS: [&str; 5] = [
    "base",
    "short-timeout",
    "bulkhead",
    "bulkhead-fallback",
    "breaker",
];

const PAYMENT_CALL: &str = "calls[gateway → payment]";

/// checkout.ron and its variants, 10 replications each at the file's own settings (4 minutes,
/// 10 s warm-up), run once and shared by the tests below.
fn checkout() -> &'static ExperimentResult {
    static RESULT: OnceLock<ExperimentResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let base = microsim::load(root().join("topologies/checkout.ron")).unwrap();
        let arms = ARMS
            .iter()
            .map(|&name| Arm {
                name: name.into(),
                model: if name == "base" {
                    base.clone()
                } else {
                    base.variant(name).unwrap()
                },
            })
            .collect();
        let plan = Plan {
            arms,
            axes: vec![],
            reps: 10,
            master_seed: 1,
            options: RunOptions::default(),
            targets: vec![],
            recovery: Default::default(),
        };
        run(&plan).unwrap()
    })
}

fn cell(arm: &str) -> &'static CellResult {
    checkout().cells.iter().find(|c| c.arm == arm).unwrap()
}

/// The per-replication values of `metric` in `arm`.
fn values(arm: &str, metric: &str) -> Vec<f64> {
    let v = cell(arm).values(metric);
    assert_eq!(v.len(), 10, "{arm}: {metric}");
    v
}

/// Per replication, `num / den` of two metrics.
fn ratio(arm: &str, num: &str, den: &str) -> Vec<f64> {
    values(arm, num)
        .iter()
        .zip(values(arm, den))
        .map(|(n, d)| n / d)
        .collect()
}

/// The share of the gateway's arrivals it rejects at its door: views fail this way (they
/// never call payment), as often as buys, since the choice is made after the door.
fn gateway_rejected(arm: &str) -> Vec<f64> {
    ratio(
        arm,
        "services[gateway].rejected",
        "services[gateway].arrivals",
    )
}

/// Buys that payment completed: the payment call's `ok` answers.
fn buys_completed(arm: &str) -> Vec<f64> {
    values(arm, &format!("{PAYMENT_CALL}.outcomes.ok"))
}

/// Checks a claim "≈ `claimed`" written to `precision` (0.01 for "≈ 0.84", 100 for "about
/// 1,900") against the mean of `samples` and its 95 % interval (see the module docs).
#[track_caller]
fn about(what: &str, samples: &[f64], claimed: f64, precision: f64) {
    let e = Estimate::from_samples(samples);
    let h = e.half_width.unwrap();
    println!("{what}: {:.4} ± {h:.4} (claimed ≈ {claimed})", e.mean);
    assert!(
        h < precision,
        "{what}: the interval ±{h} is wider than the claim's precision {precision}: too few samples to check it"
    );
    assert!(
        (e.mean - claimed).abs() <= precision / 2.0 + h,
        "{what}: the header of checkout.ron claims ≈ {claimed}, the experiment gives {:.4} ± {h:.4}",
        e.mean
    );
}

/// The paired difference `arm − base` of per-replication values.
fn paired(base: &[f64], arm: &[f64]) -> Estimate {
    paired_difference(base, arm)
}

#[track_caller]
fn assert_lower(what: &str, d: &Estimate) {
    let (lo, hi) = d.interval().unwrap();
    println!("{what}: {:+.4} [{lo:+.4}, {hi:+.4}]", d.mean);
    assert!(
        hi < 0.0,
        "{what}: claimed lower, paired difference {lo}..{hi}"
    );
}

#[track_caller]
fn assert_higher(what: &str, d: &Estimate) {
    let (lo, hi) = d.interval().unwrap();
    println!("{what}: {:+.4} [{lo:+.4}, {hi:+.4}]", d.mean);
    assert!(
        lo > 0.0,
        "{what}: claimed higher, paired difference {lo}..{hi}"
    );
}

/// The base: availability ≈ 0.92 over the run, far below the analytic product (0.998);
/// during the spike the gateway rejects about one request in six, and its 40 workers are
/// nearly all busy, most of them waiting on payment.
#[test]
fn checkout_a_slow_payment_cascades_into_the_gateway() {
    let avail = values("base", "entries[shoppers].availability");
    about("base availability", &avail, 0.92, 0.01);
    let model = microsim::load(root().join("topologies/checkout.ron")).unwrap();
    let analytic = model.analyze().entries[0].availability;
    assert!((analytic - 0.998).abs() < 0.0005, "analytic {analytic}");

    // Payment's capacity: 8 workers / 60 ms = 133 buys/s, below the 160/s of the spike
    // (the analysis lints it as saturated at the peak, ρ = 160 / 133 = 1.20).
    let lint = model
        .analyze()
        .lints
        .iter()
        .find(|l| l.path == "services[payment]")
        .map(|l| l.message.clone())
        .unwrap_or_default();
    assert!(lint.contains("ρ = 1.20"), "{lint}");

    // The spike (1m to 2m): the pooled timeline of the 10 replications (1 s buckets).
    let t = &cell("base").timeline[0];
    let (ok, answered): (u64, u64) =
        (60..120).fold((0, 0), |(o, a), b| (o + t.ok[b], a + t.answered[b]));
    let failed = 1.0 - ok as f64 / answered as f64;
    // About 1/6 = 0.167: between 1/7 and 1/5. 10 × 24,000 requests: the sampling error is
    // far smaller than that range.
    assert!(
        (1.0 / 7.0..1.0 / 5.0).contains(&failed),
        "{failed} of the requests failed during the spike"
    );
    // Of them, nearly all are the gateway's rejections (views as much as buys).
    let rejected = gateway_rejected("base");
    about("base gateway rejected (whole run)", &rejected, 0.08, 0.01);

    // The gateway's workers during the spike, after the first 10 s of it (the file's own
    // seed, one run): nearly all of the 40 busy, most waiting on payment.
    let report = model.run(&RunOptions::default()).unwrap();
    let g = report
        .series
        .services
        .iter()
        .find(|s| s.name == "gateway")
        .unwrap();
    let mean = |v: &[f64]| v[70..120].iter().sum::<f64>() / 50.0;
    let busy = mean(&g.busy);
    let on_payment = mean(
        &g.occupancy
            .iter()
            .find(|o| o.state == "waiting on payment")
            .unwrap()
            .workers,
    );
    println!("spike: {busy:.1} of 40 gateway workers busy, {on_payment:.1} waiting on payment");
    assert!(busy > 36.0, "{busy} busy");
    assert!(on_payment > busy / 2.0, "{on_payment} of {busy}");
}

/// `short-timeout` is the wrong fix: availability falls to ≈ 0.84; the gateway rejects views
/// as often as before; a fifth of the buys time out, payment does about 200 worker-seconds of
/// orphaned work, and about 20 % fewer buys complete.
#[test]
fn checkout_a_short_timeout_is_the_wrong_fix() {
    let metric = "entries[shoppers].availability";
    about(
        "short-timeout availability",
        &values("short-timeout", metric),
        0.84,
        0.01,
    );
    assert_lower(
        "short-timeout − base availability",
        &paired(&values("base", metric), &values("short-timeout", metric)),
    );
    // "as often as before": the rejected share moves by less than a percentage point.
    let d = paired(
        &gateway_rejected("base"),
        &gateway_rejected("short-timeout"),
    );
    let (lo, hi) = d.interval().unwrap();
    println!(
        "short-timeout − base gateway rejected: {:+.4} [{lo:+.4}, {hi:+.4}]",
        d.mean
    );
    assert!(lo > -0.01 && hi < 0.01, "{lo}..{hi}");
    about(
        "short-timeout payment timeouts / calls",
        &ratio(
            "short-timeout",
            &format!("{PAYMENT_CALL}.outcomes.timeout"),
            &format!("{PAYMENT_CALL}.calls"),
        ),
        0.2,
        0.1,
    );
    about(
        "short-timeout orphaned work [worker-s]",
        &values("short-timeout", "total.orphaned_work_s"),
        200.0,
        100.0,
    );
    let fewer: Vec<f64> = buys_completed("short-timeout")
        .iter()
        .zip(buys_completed("base"))
        .map(|(v, b)| 1.0 - v / b)
        .collect();
    about("short-timeout: fewer buys complete", &fewer, 0.2, 0.1);
}

/// `bulkhead` is the fix: the gateway rejects nothing; about 1,900 buys are rejected by the
/// bulkhead, yet almost as many complete as before; availability ≈ 0.96; the p99 falls from
/// ≈ 0.6 s to ≈ 0.2 s.
#[test]
fn checkout_a_bulkhead_keeps_views_available() {
    for (rep, r) in values("bulkhead", "services[gateway].rejected")
        .iter()
        .enumerate()
    {
        assert_eq!(*r, 0.0, "replication {rep}: the gateway rejected {r}");
    }
    about(
        "bulkhead rejections",
        &values("bulkhead", &format!("{PAYMENT_CALL}.bulkhead_rejections")),
        1900.0,
        100.0,
    );
    // "almost as many buys complete": within 5 % of the base, replication by replication.
    for (v, b) in buys_completed("bulkhead")
        .iter()
        .zip(buys_completed("base"))
    {
        assert!(*v > 0.95 * b, "{v} buys completed vs {b}");
    }
    let metric = "entries[shoppers].availability";
    about(
        "bulkhead availability",
        &values("bulkhead", metric),
        0.96,
        0.01,
    );
    assert_higher(
        "bulkhead − base availability",
        &paired(&values("base", metric), &values("bulkhead", metric)),
    );
    let p99 = "entries[shoppers].latency.p99_ms";
    about("base p99 [ms]", &values("base", p99), 600.0, 100.0);
    about("bulkhead p99 [ms]", &values("bulkhead", p99), 200.0, 100.0);
}

/// `bulkhead-fallback`: availability ≈ 0.999, every failed buy answered `degraded`.
#[test]
fn checkout_a_bulkhead_with_a_fallback_answers_every_buy() {
    about(
        "bulkhead-fallback availability",
        &values("bulkhead-fallback", "entries[shoppers].availability"),
        0.999,
        0.001,
    );
    // Every failed buy is answered by the fallback: the refused ones, and the few payment
    // errors (0.2 % of the buys).
    let degraded = values("bulkhead-fallback", "entries[shoppers].outcomes.degraded");
    let failed: Vec<f64> = [
        "error",
        "timeout",
        "rejected",
        "circuit_open",
        "unavailable",
    ]
    .iter()
    .map(|o| values("bulkhead-fallback", &format!("{PAYMENT_CALL}.outcomes.{o}")))
    .fold(vec![0.0; 10], |acc, v| {
        acc.iter().zip(v).map(|(a, b)| a + b).collect()
    });
    let refused = values(
        "bulkhead-fallback",
        &format!("{PAYMENT_CALL}.bulkhead_rejections"),
    );
    assert_eq!(
        degraded, failed,
        "every failed buy is answered by the fallback"
    );
    for (r, d) in refused.iter().zip(&degraded) {
        assert!(
            r / d > 0.95,
            "most failed buys are the refused ones: {r} of {d}"
        );
    }
}

/// `breaker`: it protects views too (the gateway rejects almost nothing), but about a quarter
/// fewer buys complete and availability (≈ 0.88) ends below the base.
#[test]
fn checkout_a_breaker_sheds_every_buy_while_open() {
    let rejected = gateway_rejected("breaker");
    let e = Estimate::from_samples(&rejected);
    assert!(
        e.mean < 0.005,
        "the gateway rejects {} with a breaker",
        e.mean
    );
    let fewer: Vec<f64> = buys_completed("breaker")
        .iter()
        .zip(buys_completed("base"))
        .map(|(v, b)| 1.0 - v / b)
        .collect();
    about("breaker: fewer buys complete", &fewer, 0.25, 0.1);
    let metric = "entries[shoppers].availability";
    about(
        "breaker availability",
        &values("breaker", metric),
        0.88,
        0.01,
    );
    assert_lower(
        "breaker − base availability",
        &paired(&values("base", metric), &values("breaker", metric)),
    );
    // And below the bulkhead, which sheds only the excess.
    assert_lower(
        "breaker − bulkhead availability",
        &paired(&values("bulkhead", metric), &values("breaker", metric)),
    );
}

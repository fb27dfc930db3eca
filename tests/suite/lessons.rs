//! Every lesson true: the claims of each bundled topology's header comment, each checked by
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
//!
//! The other topologies are checked the same way ([`about_in`], ten replications at the seeds
//! of `common::SEEDS`, five for the retry storm), with two more kinds of check. A claim that is
//! an exact value of theory (5 ln 2 ms, 1/0.3 visits, 0.8) is checked by [`theory`]: within 5
//! standard errors of the replications' mean, with a tolerance capped so that the check can
//! fail. A claim about every run ("0 to the end", "no queue") is checked in every replication,
//! with a bound between the claimed behaviour and its absence whose margin is justified where
//! it is asserted. A "Try …" in a header is a claim too: the test makes the change with
//! `Model::with_overrides`, as `microsim run --reps N --set PATH=VALUE` does. A run may be
//! shorter than the file's when the claim concerns a steady state or one window of the run;
//! each test says why it is still the same claim.
//!
//! # The claims and their tests
//! Each test's doc lists its claims word for word; this table summarises them. Tests in other
//! modules that already checked a claim are named with their module.
//!
//! | topology | claims | tests |
//! |---|---|---|
//! | `availability.ron` | A = 0.8 a replica, 0.96 for catalog's two, 0.8 for db; search 0.992 for 1.24 attempts per call; orders stays at db's 0.8, browse reaches catalog's 0.96 | `resilience::availability_failures_replicas_and_retries` |
//! | | the analytic column predicts 0.992, 0.96 and 0.8 | `availability::analysis_keeps_outages_apart_from_independent_errors` |
//! | | ~570 failure cycles in 4 h; browse and orders a percent or two off in one run; `unavail` answers, not errors; without the retry browse is 0.8; `check` shows the retry arithmetic | [`availability_ron`] |
//! | `breaker.ron` | the breaker opens, cycles and closes; refused calls end `circuit_open` | `resilience::breaker_keeps_the_caller_available_during_a_hang` |
//! | | gateway 40 % busy normally; ≈ 50 % during the hang vs ≈ 16 %; ≈ 580 s open; no gateway queue, every browser served; the breaker line; `Fallback`: buys `degraded`, ≈ 100 % | [`breaker_ron`] |
//! | `cascade.ron` | a slow leaf takes down the entry point; web's 32 workers held; `rejected` the only failure; reviews never queues, rejects or fails | `resilience::cascade_slow_leaf_exhausts_the_pools_above_it` |
//! | | api serves ≤ 80/s; a web worker waits ≈ 0.4 s per request; ≈ 37 % from 2m to 5m, back at once; web and api queues fill; `timeout: "100ms"`: timeouts and orphaned work at reviews, the other 70 % available | [`cascade_ron`] |
//! | `chain5.ron` | 0.99⁵ = 0.951 in one run; only errors fail | `availability::bundled_chain5` |
//! | | ρ from 0.05 to 0.15, nothing else fails; `run --reps 10` gives an interval (≈ ±0.0004) covering 0.95099 | [`chain5_ron`] |
//! | `checkout.ron` | see its five tests | `checkout_*` |
//! | `comparison.ron` | being rewritten: not checked here | — |
//! | `deadlines.ron` | orphaned work, `cancelled` and `expired`, availability with vs without deadlines | `deadlines::deadlines_cut_orphaned_work_and_keep_availability` |
//! | | the back end serves 222/s; its queue passes the timeout in the spike; without deadlines the backlog and timeouts outlive it; with them it recovers at once | [`deadlines_ron`] |
//! | `lag.ron` | accounts 1.0; max lag ≈ 3,000, max time lag ≈ 30 s; back to 0 within seconds | `broker::a_consumer_outage_builds_lag_that_drains` |
//! | | capacity 800/s (`check`); lag climbs ~100/s; drains at ~700/s, `drained in` 5 s; the Topics table and `lag (max)` row | [`lag_ron`] |
//! | `m2.ron` | the sum ≈ 19.0 ms and the shadow's 19.001; ρ = 0.70 | `queues::m2_tandem_of_mm4_matches_its_analytic_sojourn` |
//! | | every queue ≈ 3.80 ms; no backlog | [`m2_ron`] |
//! | `m3.ron` | ρ ≈ 0.70; the mean sojourn ≈ 54.9 ms and the shadow's 54.902 | `queues::m3_jackson_network_matches_its_analytic_sojourn` |
//! | | 1/0.3 ≈ 3.33 stations per customer; no backlog | [`m3_ron`] |
//! | `mm1.ron` | one run's mean ≈ 5 ms | `summary::the_mm1_summary_shows_the_mean_and_slices_around_the_runs_p99` |
//! | | mean 5 ms, p50 3.47, p99 23.0, ρ 0.800; 900/s doubles the mean to 10 ms; `check`'s M/M/c line | [`mm1_ron`] |
//! | `no-breaker.ron` | the comparison with breaker.ron over the whole run | `resilience::breaker_keeps_the_caller_available_during_a_hang` |
//! | | gateway 40 % busy normally; ≈ 16 % during the hang; workers waiting on payments, queue full; browsers rejected too, catalog healthy; orphaned work after 450 s; recovery | [`no_breaker_ron`] |
//! | `order-hybrid.ron` | availability = the analytic 0.997; fulfilment's lag in [1,100, 2,100], caught up; notifications' ≈ 0 | `broker::hybrid_checkout_depends_on_sync_calls_only` |
//! | | ≈ 0.997; lag grows ~25/s to ~1,500; checkouts at full speed; `check`'s 75/s | [`order_hybrid_ron`] |
//! | `registration-events.ron` | availability 1.0; email's lag ≈ 1,500 and ≈ 30 s, the others ≈ 0; nothing lost | `broker::events_isolate_the_producer_from_a_consumer_outage` |
//! | | latency = work + publish (4 ms); p50 ≈ 3 ms; email drains at 150/s in ≈ 10 s | [`registration_events_ron`] |
//! | `registration-sync.ron` | ≈ 0.83 in three runs; `unavail` answers | `broker::events_isolate_the_producer_from_a_consumer_outage` |
//! | | ≈ 0.83; 0 % from 60 s to 90 s; p50 ≈ 20 ms; latency = the sum of the calls (29 ms) | [`registration_sync_ron`] |
//! | `retry-storm.ron` | 100 % before 1m, 0 in the last 3 minutes; db queue at 50; amplification ≈ 3; 27 attempts per request late; db's work orphaned | `resilience::retry_storm_outlives_its_trigger` |
//! | | the retry-amplification lint | `resilience::retry_amplification_lint_counts_unbudgeted_retries_only` |
//! | | ρ = 0.7 and p99 < 200 ms before; queue past 30; 27× after; 0 to the end; ≈ 25 attempts per request (calls table); orphaned work at mid, back and db; shedding to 5/s ends it, 10/s about one run in three; both lints | [`retry_storm_ron`] |
//! | `retry-storm-budget.ron` | back to 100 % after; amplification ≈ 1.00; `denied` | `resilience::retry_budget_stops_the_storm` |
//! | | db gets 70/s and no more, drains within seconds; the dip; isolated failures still retried; `Envoy(percent: 20)` still storms | [`retry_storm_budget_ron`] |

use crate::common::{assert_matches, replicate, root, SEEDS};
use microsim::experiment::{run, Arm, CellResult, ExperimentResult, Plan};
use microsim::render::{render_analysis, render_summary};
use microsim::report::{CallSeries, ServiceSeries};
use microsim::spec::overrides::Override;
use microsim::stats::{paired_difference, wilson_interval, Estimate};
use microsim::time::SimDuration;
use microsim::{run_seeds, Model, Report, RunOptions};
use std::ops::Range;
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

/// Checks a claim of checkout.ron (see [`about_in`]).
#[track_caller]
fn about(what: &str, samples: &[f64], claimed: f64, precision: f64) {
    about_in("checkout.ron", what, samples, claimed, precision);
}

/// Checks a claim "≈ `claimed`" of the header of `file`, written to `precision` (0.01 for
/// "≈ 0.84", 100 for "about 1,900") against the mean of `samples` and its 95 % interval
/// (see the module docs).
#[track_caller]
fn about_in(file: &str, what: &str, samples: &[f64], claimed: f64, precision: f64) {
    let e = Estimate::from_samples(samples);
    let h = e.half_width.unwrap();
    println!(
        "{file}: {what}: {:.4} ± {h:.4} (claimed ≈ {claimed})",
        e.mean
    );
    assert!(
        h < precision,
        "{file}: {what}: the interval ±{h} is wider than the claim's precision {precision}: too few samples to check it"
    );
    assert!(
        (e.mean - claimed).abs() <= precision / 2.0 + h,
        "{what}: the header of {file} claims ≈ {claimed}, {} replications give {:.4} ± {h:.4}",
        samples.len(),
        e.mean
    );
}

/// Checks a claim that is an exact value of theory (5 ln 2 ms, 1/0.3 visits) with
/// [`assert_matches`]: within 5 standard errors of the mean of `samples` plus `bias`, a
/// tolerance at most `max_rel` of the value. Prints the estimate.
#[track_caller]
fn theory(what: &str, samples: &[f64], exact: f64, bias: f64, max_rel: f64) {
    let e = Estimate::from_samples(samples);
    println!(
        "{what}: {:.4} ± {:.4} (theory {exact:.4})",
        e.mean,
        e.half_width.unwrap()
    );
    assert_matches(what, samples, exact, bias, max_rel);
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

// ---------------------------------------------------------------------------------------------
// The other bundled topologies: one test each, named after the file.

/// The bundled topology `topologies/{file}`.
fn topology(file: &str) -> Model {
    microsim::load(root().join("topologies").join(file)).unwrap_or_else(|e| panic!("{e}"))
}

/// `model` with `PATH=VALUE` edits, as `microsim run --reps N --set PATH=VALUE` applies them
/// (the way a header's "Try …" is tried).
fn edited(model: &Model, edits: &[(&str, &str)]) -> Model {
    let edits: Vec<Override> = edits.iter().map(|(p, v)| Override::new(*p, *v)).collect();
    model
        .with_overrides(&edits)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `model` run once per seed (in parallel), with the file's settings except the duration,
/// when one is given [s].
fn runs(model: &Model, duration_s: Option<u64>, seeds: &[u64]) -> Vec<Report> {
    let options = RunOptions {
        duration: duration_s.map(SimDuration::from_secs),
        ..RunOptions::default()
    };
    run_seeds(model, &options, seeds)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("run failed: {e}")))
        .collect()
}

/// One value per replication.
fn each(reports: &[Report], f: impl Fn(&Report) -> f64) -> Vec<f64> {
    reports.iter().map(f).collect()
}

/// The time-series buckets that lie entirely inside `[from_s, to_s)`.
fn buckets(r: &Report, from_s: f64, to_s: f64) -> Range<usize> {
    let b = r.series.bucket_s;
    let first = (from_s / b - 1e-9).ceil().max(0.0) as usize;
    let end = ((to_s / b + 1e-9).floor() as usize).min(r.series.entries[0].ok.len());
    assert!(first < end, "no whole bucket in [{from_s}, {to_s}) s");
    first..end
}

/// The entry point's answers in `[from_s, to_s)` (whole buckets): (successful, all).
fn answers_in(r: &Report, entry: &str, from_s: f64, to_s: f64) -> (u64, u64) {
    let s = r
        .series
        .entries
        .iter()
        .find(|e| e.name == entry)
        .unwrap_or_else(|| panic!("no entry point {entry}"));
    let range = buckets(r, from_s, to_s);
    let sum = |v: &[u64]| v[range.clone()].iter().sum::<u64>();
    let good = sum(&s.ok) + sum(&s.degraded);
    let bad = sum(&s.error)
        + sum(&s.timeout)
        + sum(&s.rejected)
        + sum(&s.circuit_open)
        + sum(&s.unavailable);
    (good, good + bad)
}

/// Request-based availability of `entry` over the answers given in `[from_s, to_s)`.
fn availability_in(r: &Report, entry: &str, from_s: f64, to_s: f64) -> f64 {
    let (good, all) = answers_in(r, entry, from_s, to_s);
    assert!(
        all > 0,
        "seed {}: no answers in [{from_s}, {to_s}) s",
        r.seed
    );
    good as f64 / all as f64
}

/// The time series of service `name`.
fn service_series<'a>(r: &'a Report, name: &str) -> &'a ServiceSeries {
    r.series
        .services
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no service {name}"))
}

/// Mean of a per-bucket series over `[from_s, to_s)`.
fn mean_in(r: &Report, v: &[f64], from_s: f64, to_s: f64) -> f64 {
    let range = buckets(r, from_s, to_s);
    let n = range.len() as f64;
    v[range].iter().sum::<f64>() / n
}

/// Largest value of a per-bucket series over `[from_s, to_s)`.
fn max_in(r: &Report, v: &[f64], from_s: f64, to_s: f64) -> f64 {
    v[buckets(r, from_s, to_s)]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Attempts sent to `to` per call started by `from_first` (the front of a chain) in
/// `[from_s, to_s)`: the end-to-end amplification.
fn attempts_per_request(r: &Report, from_first: &str, to: &str, from_s: f64, to_s: f64) -> f64 {
    let range = buckets(r, from_s, to_s);
    let find = |f: &dyn Fn(&CallSeries) -> bool| {
        r.series
            .calls
            .iter()
            .find(|c| f(c))
            .unwrap_or_else(|| panic!("no such call series"))
    };
    let last = find(&|c| c.to == to);
    let first = find(&|c| c.from == from_first);
    last.attempts[range.clone()].iter().sum::<u64>() as f64
        / first.calls[range].iter().sum::<u64>() as f64
}

/// Calls to `to` started per second in `[from_s, to_s)` (whole buckets).
fn calls_per_s(r: &Report, to: &str, from_s: f64, to_s: f64) -> f64 {
    let c = r
        .series
        .calls
        .iter()
        .find(|c| c.to == to)
        .unwrap_or_else(|| panic!("no call to {to}"));
    let range = buckets(r, from_s, to_s);
    let seconds = range.len() as f64 * r.series.bucket_s;
    c.calls[range].iter().sum::<u64>() as f64 / seconds
}

/// The analysis' prediction for consumer group `service` of the first topic.
fn group_capacity(model: &Model, service: &str) -> f64 {
    model.analyze().topics[0]
        .groups
        .iter()
        .find(|g| g.service == service)
        .unwrap_or_else(|| panic!("no group {service}"))
        .capacity_per_s
}

/// The lint codes `microsim check` prints for `model`.
fn lint_codes(model: &Model) -> Vec<String> {
    model.analyze().lints.into_iter().map(|l| l.code).collect()
}

/// availability.ron. Checked elsewhere: the time-based availabilities 0.96 (catalog) and
/// 0.8 (db, each replica), search's 0.992 for 1.24 attempts per call, orders at db's 0.8 and
/// not 0.992, browse at catalog's 0.96 (`resilience::availability_failures_replicas_and_retries`,
/// ten 4-hour runs against closed forms); the analytic 0.992, 0.96 and 0.8
/// (`availability::analysis_keeps_outages_apart_from_independent_errors`). Here:
/// * 4 hours hold "about 570 failure cycles per replica";
/// * browse and orders are "a percent or two off 0.96 and 0.8 in any one run";
/// * "`unavail` answers, not errors, for browse and orders";
/// * "Without the retry it would be 0.8" (browse with `attempts: 1`);
/// * "`microsim check` shows the retry arithmetic".
#[test]
fn availability_ron() {
    const FILE: &str = "availability.ron";
    let model = topology(FILE);
    let reports = replicate(&model, &RunOptions::default());

    // Failure cycles: the measured span over MTTF + MTTR = 25 s (4 h − 1 m of warm-up).
    let r = &reports[0];
    let cycles = (r.duration_s - r.warmup_s) / 25.0;
    assert!((cycles - 570.0).abs() <= 5.0, "{cycles} cycles");

    // One run's spread: the time-average of "db down" over ~570 cycles has s.d. 0.0095
    // (`all_down_sd` in resilience.rs; 0.0037 for catalog's two replicas), plus a binomial
    // 0.0024 over ~28,700 requests. "A percent or two": each run within 0.03 (3 s.d. for
    // orders), and orders' root-mean-square deviation over the ten runs between 0.003 and
    // 0.02 — a real spread, unlike search's (binomial only, 0.0005).
    let off =
        |entry: &str, value: f64| each(&reports, |r| r.entry(entry).unwrap().availability - value);
    for (entry, value) in [("browse", 0.96), ("orders", 0.8)] {
        for (d, r) in off(entry, value).iter().zip(&reports) {
            assert!(
                d.abs() <= 0.03,
                "seed {}: {entry} off {value} by {d}",
                r.seed
            );
        }
    }
    let orders = off("orders", 0.8);
    let rms = (orders.iter().map(|d| d * d).sum::<f64>() / orders.len() as f64).sqrt();
    println!("{FILE}: orders' deviation from 0.8 per run: rms {rms:.4}");
    assert!((0.003..=0.02).contains(&rms), "rms {rms}");

    // `unavail`, not errors: a dead replica answers `unavailable`; nothing else fails.
    for r in &reports {
        for entry in ["browse", "orders"] {
            let o = &r.entry(entry).unwrap().outcomes;
            assert!(o.unavailable > 0, "seed {}: {entry} {o:?}", r.seed);
            assert_eq!(
                o.ok + o.unavailable,
                o.total(),
                "seed {}: {entry} {o:?}",
                r.seed
            );
        }
    }

    // Without the retry: half the requests go to the dead replica while one is down, so
    // availability is a replica's, A = 0.8. One hour per run (the same time-average over
    // ~140 cycles instead of 570: s.d. per run ≈ 0.014 with the binomial part), ten runs:
    // 5 s.e. ≈ 0.022, well below the 0.16 that separates it from 0.96.
    let once = edited(
        &model,
        &[("services[browse-api].steps[0].retry.attempts", "1")],
    );
    let browse = each(&runs(&once, Some(3600), &SEEDS), |r| {
        r.entry("browse").unwrap().availability
    });
    theory(
        "availability.ron: browse without the retry",
        &browse,
        0.8,
        0.0,
        0.04,
    );

    // `microsim check` prints the retry arithmetic, one line per call.
    let check = render_analysis(&model, &model.analyze());
    for line in [
        "search-api → index             3 attempts: availability 0.80000 → 0.99200, load × 1.240",
        "browse-api → catalog           3 attempts: availability 0.80000 → 0.96000",
        "orders-api → db                3 attempts: availability 0.80000 → 0.80000",
    ] {
        assert!(check.contains(line), "no `{line}` in:\n{check}");
    }
}

/// breaker.ron and no-breaker.ron, ten runs each at the files' settings (the same seeds, so
/// the two are paired), run once for the two tests below.
fn breaker_pair() -> &'static (Vec<Report>, Vec<Report>) {
    static RESULT: OnceLock<(Vec<Report>, Vec<Report>)> = OnceLock::new();
    RESULT.get_or_init(|| {
        (
            replicate(&topology("breaker.ron"), &RunOptions::default()),
            replicate(&topology("no-breaker.ron"), &RunOptions::default()),
        )
    })
}

/// The hang of payments in both files [s].
const HANG: (f64, f64) = (150.0, 450.0);

/// The gateway's busy share of its 8 workers before the hang.
fn gateway_busy_before(r: &Report) -> f64 {
    mean_in(r, &service_series(r, "gateway").busy, r.warmup_s, HANG.0) / 8.0
}

/// breaker.ron. Checked elsewhere (`resilience::breaker_keeps_the_caller_available_during_a_hang`):
/// the breaker opens within seconds of the hang, cycles open → half-open → open while
/// payments hangs and closes after it; refused calls end `circuit_open` (the `open` column of
/// the entry point and of the call). Here:
/// * "Normally the gateway's 8 workers are 40% busy";
/// * "about 50% of requests succeed during the hang instead of 16%" (`shoppers avail %`
///   ≈ 50, ≈ 16 in no-breaker.ron), as a paired comparison too;
/// * "about 580 s open out of the 2 × 300 s of hang";
/// * "no gateway queue"; "the gateway keeps serving every browser";
/// * the breaker line under the calls table;
/// * "Try `on_failure: Fallback(Const("1ms"))` on the payments call: buys end `degraded` and
///   availability stays ≈ 100%".
#[test]
fn breaker_ron() {
    const FILE: &str = "breaker.ron";
    let (with, without) = breaker_pair();
    // Each run holds ~14,000 gateway-seconds of normal load: the ten give ±0.003.
    about_in(
        FILE,
        "gateway busy before the hang",
        &each(with, gateway_busy_before),
        0.40,
        0.01,
    );
    let hang = |r: &Report| availability_in(r, "shoppers", HANG.0, HANG.1);
    // ~29,000 answers in the window per run: binomial s.e. 0.003, seed-to-seed 0.003.
    let (a_with, a_without) = (each(with, hang), each(without, hang));
    about_in(FILE, "availability during the hang", &a_with, 0.50, 0.01);
    about_in(
        FILE,
        "availability during the hang, no breaker",
        &a_without,
        0.16,
        0.01,
    );
    assert_higher(
        "breaker − no breaker during the hang",
        &paired(&a_without, &a_with),
    );
    let open = each(with, |r| {
        r.call("gateway", "payments")
            .unwrap()
            .breaker
            .as_ref()
            .unwrap()
            .open_s
    });
    about_in(FILE, "breaker open [s, both replicas]", &open, 580.0, 10.0);
    // No queue: buys fail fast, so the gateway's 8 workers are 40 % busy at most (measured
    // mean 0.007 waiting); without the breaker the queue of 2 × 4 stays nearly full. And
    // every browser is served: the catalog gets its 50 calls/s as before the hang (Poisson:
    // ±0.4/s over 290 s), and they are the successes.
    for r in with {
        let seed = r.seed;
        let gateway = service_series(r, "gateway");
        let q = mean_in(r, &gateway.queue, HANG.0 + 10.0, HANG.1);
        assert!(q < 0.05, "seed {seed}: gateway queue {q} during the hang");
        let (ok, _) = answers_in(r, "shoppers", HANG.0 + 10.0, HANG.1);
        let browsers = calls_per_s(r, "catalog", HANG.0 + 10.0, HANG.1);
        assert!(
            (48.0..52.0).contains(&browsers),
            "seed {seed}: {browsers}/s"
        );
        let served = ok as f64 / (HANG.1 - HANG.0 - 10.0);
        assert!(
            (served - browsers).abs() < 0.5,
            "seed {seed}: {served} ok/s"
        );
    }
    // The breaker line under the calls table.
    let summary = render_summary(&with[0]);
    let line = summary
        .lines()
        .find(|l| l.contains("breaker gateway → payments:"))
        .unwrap_or_else(|| panic!("no breaker line in:\n{summary}"));
    assert!(line.contains("transitions, open 58"), "{line}");

    // The suggested fallback: every refused or timed-out buy is answered `degraded`. Eight
    // minutes per run instead of fifteen: the same hang, with less healthy time after it
    // (which can only raise availability).
    let fallback = edited(
        &topology(FILE),
        &[(
            "services[gateway].steps[0].branches[1].steps[0].on_failure",
            r#"Fallback(Const("1ms"))"#,
        )],
    );
    let reports = runs(&fallback, Some(480), &SEEDS);
    for r in &reports {
        let e = r.entry("shoppers").unwrap();
        let c = r.call("gateway", "payments").unwrap();
        let o = &c.outcomes;
        let failed = o.error + o.timeout + o.rejected + o.circuit_open + o.unavailable;
        assert!(
            e.outcomes.degraded > 1000,
            "seed {}: {:?}",
            r.seed,
            e.outcomes
        );
        assert_eq!(
            e.outcomes.degraded, failed,
            "seed {}: every failed buy degraded",
            r.seed
        );
        assert_eq!(
            e.outcomes.circuit_open + e.outcomes.timeout,
            0,
            "seed {}",
            r.seed
        );
    }
    // ≈ 100 % written to a percent: the few failures left are rejections at the gateway's
    // door in the second before the breakers open (≈ 100 per run).
    about_in(
        FILE,
        "availability with the fallback",
        &each(&reports, |r| r.entry("shoppers").unwrap().availability),
        1.0,
        0.01,
    );
}

/// no-breaker.ron. Checked elsewhere (`resilience::breaker_keeps_the_caller_available_during_a_hang`):
/// the comparison with breaker.ron over the whole run. Here:
/// * "Normally the gateway's 8 workers are 40% busy";
/// * "about 16% of requests succeed during the hang" (`shoppers avail %` ≈ 16), ≈ 50 with
///   the breaker (in [`breaker_ron`]);
/// * "They all end up waiting on payments, the gateway's queue fills";
/// * "it rejects browsers as well as buyers, although the catalog is perfectly healthy";
///   `rejected` and `timeout` at the entry point;
/// * "payments releases everything it held at once (orphaned work …)": the burst of orphaned
///   work at payments after 450 s;
/// * "and the gateway recovers".
#[test]
fn no_breaker_ron() {
    const FILE: &str = "no-breaker.ron";
    let (_, reports) = breaker_pair();
    about_in(
        FILE,
        "gateway busy before the hang",
        &each(reports, gateway_busy_before),
        0.40,
        0.01,
    );
    about_in(
        FILE,
        "availability during the hang",
        &each(reports, |r| availability_in(r, "shoppers", HANG.0, HANG.1)),
        0.16,
        0.01,
    );
    for r in reports {
        let seed = r.seed;
        let (from, to) = (HANG.0 + 10.0, HANG.1);
        let g = service_series(r, "gateway");
        let on_payments = g
            .occupancy
            .iter()
            .find(|o| o.state == "waiting on payments")
            .unwrap();
        // Measured 7.76 of 8 waiting on payments (the rest serve the few browsers let in),
        // 7.05 of the 8 queue places taken.
        let waiting = mean_in(r, &on_payments.workers, from, to);
        assert!(
            waiting > 7.5,
            "seed {seed}: {waiting} of 8 workers wait on payments"
        );
        let queue = mean_in(r, &g.queue, from, to);
        assert!(queue > 6.8, "seed {seed}: gateway queue {queue} of 8");
        // Browsers are turned away too: the catalog gets under half its 50 calls/s (measured
        // ≈ 15/s), and answers every one of them.
        let (normal, hung) = (
            calls_per_s(r, "catalog", r.warmup_s, HANG.0),
            calls_per_s(r, "catalog", from, to),
        );
        assert!(
            (45.0..55.0).contains(&normal),
            "seed {seed}: {normal} browsers/s"
        );
        assert!(
            hung < 0.5 * normal,
            "seed {seed}: {hung} browsers/s served in the hang"
        );
        let catalog = &r.service("catalog").unwrap().outcomes;
        assert_eq!(
            catalog.ok,
            catalog.total(),
            "seed {seed}: catalog {catalog:?}"
        );
        let e = &r.entry("shoppers").unwrap().outcomes;
        assert!(e.rejected > 1000 && e.timeout > 1000, "seed {seed}: {e:?}");
        // The gateway recovers once payments has worked off what it held (≈ 7 s).
        let after = availability_in(r, "shoppers", HANG.1 + 10.0, r.duration_s);
        assert!(
            after > 0.99,
            "seed {seed}: availability {after} after the hang"
        );
        // Payments' 32 workers all work, for nobody, right after the hang.
        let busy = max_in(r, &service_series(r, "payments").busy, HANG.1, HANG.1 + 5.0);
        assert!(
            busy > 31.9,
            "seed {seed}: payments busy {busy} after the hang"
        );
    }
    // The orphaned work comes after 450 s: none in a run stopped at 450 s (the same events up
    // to then), ≈ 240 worker-seconds (32 workers × 7.5 s) by the end.
    let model = topology(FILE);
    let until_450 = runs(&model, Some(450), &SEEDS);
    for (r, prefix) in reports.iter().zip(&until_450) {
        let (all, before) = (
            r.service("payments").unwrap().orphaned_work_s,
            prefix.service("payments").unwrap().orphaned_work_s,
        );
        assert!(
            before < 1.0 && all > 200.0,
            "seed {}: {before} then {all}",
            r.seed
        );
    }
}

/// cascade.ron. Checked elsewhere (`resilience::cascade_slow_leaf_exhausts_the_pools_above_it`):
/// web's 32 workers all held, web rejects at the door; `rejected` at the entry point is the
/// only failure; reviews answers every call, never queues, never has more than api's 24 calls
/// at once. Here:
/// * "api's 24 workers can serve only about 24 / (0.3 × 1 s) = 80 requests/s";
/// * "a web worker now waits on api about 0.4 s per request on average";
/// * "`users avail %` drops from 100 to about 37 from 2m to 5m and comes back at once";
/// * "the web and api queues fill while the reviews queue stays at 0";
/// * "Try `timeout: "100ms"` on the reviews call: review pages fail fast instead (orphaned
///   work piles up at reviews), and the other 70% stay available".
#[test]
fn cascade_ron() {
    const FILE: &str = "cascade.ron";
    const SLOW: (f64, f64) = (120.0, 300.0);
    let model = topology(FILE);
    let reports = replicate(&model, &RunOptions::default());
    // ~36,000 answers in the window per run: binomial s.e. 0.003; seed-to-seed s.d. 0.009.
    about_in(
        FILE,
        "availability from 2m to 5m",
        &each(&reports, |r| availability_in(r, "users", SLOW.0, SLOW.1)),
        0.37,
        0.01,
    );
    let mut holds = vec![];
    for r in &reports {
        let seed = r.seed;
        // At most 24 / (0.3 × 1 s + 5 ms) = 79 served per second; measured ≈ 73, as api's
        // two replicas are not always both full.
        let (ok, _) = answers_in(r, "users", SLOW.0 + 10.0, SLOW.1);
        let per_s = ok as f64 / (SLOW.1 - SLOW.0 - 10.0);
        assert!(
            (0.85 * 79.0..=79.0).contains(&per_s),
            "seed {seed}: {per_s} served/s"
        );
        // Little's law at web: its busy workers over the requests it admits per second
        // (all answered ok: web rejects the rest at the door).
        let web_busy = mean_in(r, &service_series(r, "web").busy, SLOW.0 + 10.0, SLOW.1);
        holds.push(web_busy / per_s);
        let back = availability_in(r, "users", SLOW.1 + 5.0, SLOW.1 + 60.0);
        assert!(
            back > 0.99,
            "seed {seed}: availability {back} in the minute after"
        );
        // web's queue (2 × 16 places) full, measured 30.2; api's holds what web's 32 workers
        // send beyond its own 24 busy ones (measured 9.5); reviews' empty.
        let mean_queue = |s: &str| mean_in(r, &service_series(r, s).queue, SLOW.0 + 10.0, SLOW.1);
        assert!(
            mean_queue("web") > 0.9 * 32.0,
            "seed {seed}: web {}",
            mean_queue("web")
        );
        assert!(
            mean_queue("api") > 5.0,
            "seed {seed}: api {}",
            mean_queue("api")
        );
        assert_eq!(r.service("reviews").unwrap().max_queue, 0, "seed {seed}");
    }
    // ~73 requests/s over 170 s per run: the wait is known to ±2 % per run.
    about_in(FILE, "web's wait on api per request [s]", &holds, 0.4, 0.1);

    // The suggested timeout. Runs end at 5m30s: the claim is about the slowdown.
    let short = edited(&model, &[("services[api].steps[0].timeout", "\"100ms\"")]);
    let reports = runs(&short, Some(330), &SEEDS);
    about_in(
        FILE,
        "availability from 2m to 5m with the 100 ms timeout",
        &each(&reports, |r| availability_in(r, "users", SLOW.0, SLOW.1)),
        0.70,
        0.01,
    );
    for r in &reports {
        let seed = r.seed;
        // Review pages fail fast, as timeouts of the review call; nothing is rejected.
        let e = &r.entry("users").unwrap().outcomes;
        let c = &r.call("api", "reviews").unwrap().outcomes;
        assert_eq!(e.rejected, 0, "seed {seed}: {e:?}");
        assert!(e.timeout > 5000, "seed {seed}: {e:?}");
        assert_eq!(e.timeout, c.timeout, "seed {seed}");
        // Orphaned work at reviews: ~60 calls/s for 180 s give up after 0.1 s of a 1 s job,
        // ≈ 9,700 worker-seconds (measured ≈ 10,000); at least half of that.
        let orphaned = r.service("reviews").unwrap().orphaned_work_s;
        assert!(
            orphaned > 5000.0,
            "seed {seed}: {orphaned} worker-s orphaned"
        );
    }
}

/// chain5.ron. Checked elsewhere: one run of the file at 0.99⁵ = 0.95099 within 5 binomial
/// standard errors, only errors failing (`availability::bundled_chain5`). Here:
/// * "The services are lightly loaded (ρ ≤ 0.15 …), so nothing else fails";
/// * "`microsim run topologies/chain5.ron --reps 10` gives a 95 % interval that covers
///   [0.95099]".
#[test]
fn chain5_ron() {
    let model = topology("chain5.ron");
    let plan = Plan {
        arms: vec![Arm {
            name: "chain5".into(),
            model: model.clone(),
        }],
        axes: vec![],
        reps: 10,
        // The file's seed: `run --reps` derives the replications' seeds from it.
        master_seed: 5,
        options: RunOptions::default(),
        targets: vec![],
        recovery: Default::default(),
    };
    let result = run(&plan).unwrap();
    let cell = &result.cells[0];
    let m = cell.metric("entries[users].availability").unwrap();
    let [lo, hi] = m.ci.unwrap();
    println!("chain5.ron: availability {:.5} [{lo:.5}, {hi:.5}]", m.mean);
    let product = 0.99f64.powi(5);
    assert!(
        lo <= product && product <= hi,
        "{product} not in [{lo}, {hi}]"
    );
    // "About ±0.0004": ten runs of ~118,000 requests, binomial s.e. 0.0006 each, t₉ = 2.26:
    // ±0.00045 expected; the interval's own width varies by ~25 % with ten runs.
    let h = (hi - lo) / 2.0;
    assert!((0.0002..0.0008).contains(&h), "±{h}");
    for s in ["edge", "auth", "orders", "pricing", "stock"] {
        // A worker is held for its own work and the rest of the chain: ρ from 0.15 at
        // the edge down to 0.05 at stock.
        for u in cell.values(&format!("services[{s}].utilization")) {
            assert!((0.045..=0.155).contains(&u), "{s}: utilization {u}");
        }
    }
    for o in ["timeout", "rejected", "circuit_open", "unavailable"] {
        let v = cell.values(&format!("entries[users].outcomes.{o}"));
        assert!(v.iter().all(|&n| n == 0.0), "{o}: {v:?}");
    }
}

/// deadlines.ron. Checked elsewhere (`deadlines::deadlines_cut_orphaned_work_and_keep_availability`):
/// orphaned work at back-plain vs back-dl, the `cancelled` and `expired` counts, the two
/// entry points' availability. Here:
/// * "The back end serves about 222/s";
/// * "during the spike its queue grows and requests wait longer than the front's 300 ms
///   timeout";
/// * without deadlines "the backlog and the timeouts outlive the spike";
/// * with them the back end "recovers as soon as the spike ends".
#[test]
fn deadlines_ron() {
    let model = topology("deadlines.ron");
    // 4 workers / 18 ms = 222/s, as the analysis has it (its ρ is the mean rate over the
    // capacity).
    for s in &model.analyze().services {
        if s.name.starts_with("back") {
            let capacity = s.arrival_rate_per_s / s.utilization;
            assert!(
                (capacity - 4.0 / 0.018).abs() < 1e-6,
                "{}: {capacity}/s",
                s.name
            );
        }
    }
    // A request behind more than 0.3 s × 222/s ≈ 67 others waits past the timeout.
    let too_long = 0.3 * 4.0 / 0.018;
    for r in &replicate(&model, &RunOptions::default()) {
        let seed = r.seed;
        let plain = service_series(r, "back-plain");
        let dl = service_series(r, "back-dl");
        let q = mean_in(r, &plain.queue, 50.0, 60.0);
        assert!(
            q > too_long,
            "seed {seed}: back-plain queue {q} at the end of the spike"
        );
        // The spike ends at 60 s. Without deadlines the queue is still long 10 s later and
        // every request times out (measured 0.0 on every seed); with them the back end
        // serves again within seconds (measured ≥ 0.993 from 65 s on).
        let q = mean_in(r, &plain.queue, 65.0, 70.0);
        assert!(
            q > too_long,
            "seed {seed}: back-plain queue {q} after the spike"
        );
        let a = availability_in(r, "plain", 60.0, 70.0);
        assert!(
            a < 0.05,
            "seed {seed}: plain availability {a} after the spike"
        );
        let q = mean_in(r, &dl.queue, 65.0, 70.0);
        assert!(
            q < too_long,
            "seed {seed}: back-dl queue {q} after the spike"
        );
        let a = availability_in(r, "with-deadlines", 65.0, r.duration_s);
        assert!(
            a > 0.99,
            "seed {seed}: with-deadlines availability {a} after the spike"
        );
    }
}

/// lag.ron. Checked elsewhere (`broker::a_consumer_outage_builds_lag_that_drains`):
/// accounts' availability 1.0, the max lag ≈ 3,000 (±300), the max time lag ≈ 30 s, the lag
/// back to 0 within seconds. Here:
/// * "welcome-mail processes about 2 × 400 = 800 messages/s" (`microsim check` predicts
///   the capacity);
/// * "drain the backlog at 800 − 100 = 700 messages/s: 3,000 / 700 ≈ 4.3 s, which the
///   Topics table's `drained in` (whole seconds) shows as 5 s";
/// * the timeline's `lag (max)` row "climbing by ~100 per second during the outage";
/// * the summary shows the Topics table and the `lag (max)` row.
#[test]
fn lag_ron() {
    const FILE: &str = "lag.ron";
    let model = topology(FILE);
    assert_eq!(group_capacity(&model, "welcome-mail"), 800.0);
    let reports = replicate(&model, &RunOptions::default());
    let lag =
        |r: &Report| -> Vec<f64> { r.series.topics[0].lag.iter().map(|&l| l as f64).collect() };
    // The outage is 60 s to 90 s; bucket i ends at i + 1 s. Climbing: 26 s of Poisson
    // arrivals at 100/s, ±2 % each run.
    let climb = each(&reports, |r| (lag(r)[88] - lag(r)[62]) / 26.0);
    about_in(FILE, "lag growth [messages/s]", &climb, 100.0, 10.0);
    // Draining: the peak is at 90 s; over the next 3 s the lag falls at the drain rate.
    let drain = each(&reports, |r| {
        let l = lag(r);
        let peak = (85..95).max_by(|&a, &b| l[a].total_cmp(&l[b])).unwrap();
        (l[peak] - l[peak + 3]) / 3.0
    });
    about_in(FILE, "drain rate [messages/s]", &drain, 700.0, 100.0);
    for r in &reports {
        let g = r.group("signed-up", "welcome-mail").unwrap();
        assert_eq!(g.drained_in_s, Some(5.0), "seed {}", r.seed);
    }
    let summary = render_summary(&reports[0]);
    for words in ["drained in", "lag (max)"] {
        assert!(summary.contains(words), "no `{words}` in:\n{summary}");
    }
}

/// m2.ron. Checked elsewhere (`queues::m2_tandem_of_mm4_matches_its_analytic_sojourn`):
/// the sum ≈ 19.0 ms and the shadow's 19.001 ms, utilization 0.70 at every station, the
/// latency of q1, q3 and q5. Here:
/// * "every queue's latency mean ≈ 3.80 ms" (all five);
/// * "no backlog: what is left at the end is an ordinary moment's queue".
#[test]
fn m2_ron() {
    // Ten runs of 60 s (55,000 customers each after the warm-up): the standard error of a
    // station's mean is ~0.5 %; 5 s.e. plus a 0.5 % warm-up bias stays under 4 %, far
    // from the 2.8 ms of a station without waiting or the 19 ms of the whole tandem.
    let reports = runs(&topology("m2.ron"), Some(60), &SEEDS);
    for q in ["q1", "q2", "q3", "q4", "q5"] {
        let w = each(&reports, |r| {
            r.queues
                .iter()
                .find(|x| x.name == q)
                .unwrap()
                .latency
                .mean_ms
        });
        theory(
            &format!("m2.ron: {q} sojourn [ms]"),
            &w,
            3.8002,
            0.005 * 3.8,
            0.04,
        );
    }
    // An M/M/4 queue at ρ = 0.7 holds k or more waiting with probability ≈ 0.3 × 0.7ᵏ:
    // 26 waiting (plus 4 in flight) once in 10⁵ moments. A backlog would hold thousands.
    for r in &reports {
        for q in &r.queues {
            assert!(q.depth + q.in_flight <= 30, "seed {}: {q:?}", r.seed);
        }
    }
}

/// m3.ron. Checked elsewhere (`queues::m3_jackson_network_matches_its_analytic_sojourn`):
/// utilization ≈ 0.70 at every station, the mean sojourn ≈ 54.9 ms and the shadow's 54.902 ms
/// (what `microsim check` computes). Here:
/// * "A customer visits 1/0.3 ≈ 3.33 stations on average";
/// * "no backlog: what is left at the end is an ordinary moment's queue".
#[test]
fn m3_ron() {
    // Ten runs of 60 s. Visits per customer are geometric (mean 1/0.3, s.d. 2.8): 60,000
    // customers give s.e. 0.011 per run, 0.004 over ten; 5 s.e. is 0.5 % of 3.33.
    let reports = runs(&topology("m3.ron"), Some(60), &SEEDS);
    let visits = each(&reports, |r| {
        let visits: u64 = r.queues.iter().map(|q| q.latency.count).sum();
        let customers: u64 = r.entries.iter().map(|e| e.offered).sum();
        visits as f64 / customers as f64
    });
    theory(
        "m3.ron: stations visited per customer",
        &visits,
        1.0 / 0.3,
        0.0,
        0.01,
    );
    // An M/M/2 queue at ρ = 0.7 holds k or more waiting with probability ≈ 0.58 × 0.7ᵏ:
    // 38 waiting (plus 2 in flight) once in 10⁶ moments.
    for r in &reports {
        for q in &r.queues {
            assert!(q.depth + q.in_flight <= 40, "seed {}: {q:?}", r.seed);
        }
    }
}

/// mm1.ron. Checked elsewhere (`summary::the_mm1_summary_shows_the_mean_and_slices_around_the_runs_p99`):
/// one run's mean ≈ 5 ms. Here, in ten runs:
/// * "at utilization ρ = 0.8 the mean time in system is 1/(μ − λ) = 5 ms";
/// * "the median is 3.47 ms and the 99th percentile 23 ms" (5 ln 2 and 5 ln 100);
/// * "`server` utilization ≈ 0.800";
/// * "Raise the rate to 900/s and the mean doubles to 10 ms";
/// * "the analytic M/M/c line of `microsim check` gives ρ and the mean sojourn".
#[test]
fn mm1_ron() {
    const FILE: &str = "mm1.ron";
    let model = topology(FILE);
    let s = &model.analyze().services[0];
    let q = s.queue_model.as_ref().unwrap();
    assert_eq!((q.model.as_str(), s.utilization), ("M/M/c", 0.8));
    assert!((q.mean_sojourn_ms - 5.0).abs() < 1e-9, "{q:?}");
    // Ten minutes per run instead of twenty: the same steady state, measured on 470,000
    // requests. At ρ = 0.8 sojourns are correlated over ~100 requests: each run's mean
    // has s.e. ≈ 1 %, the ten ≈ 0.3 %; 5 s.e. stay under 3 % (5 % for the p99, whose
    // s.e. is 1 % over the ten). Percentiles come from a histogram of 3 significant
    // digits: a 0.1 % bias allowance.
    let reports = runs(&model, Some(600), &SEEDS);
    let latency = |f: fn(&microsim::metrics::LatencySummary) -> f64| {
        each(&reports, move |r| f(&r.entry("clients").unwrap().latency))
    };
    theory(
        "mm1.ron: mean [ms]",
        &latency(|l| l.mean_ms),
        5.0,
        0.0,
        0.03,
    );
    let (p50, p99) = (5.0 * 2f64.ln(), 5.0 * 100f64.ln());
    theory(
        "mm1.ron: p50 [ms]",
        &latency(|l| l.p50_ms),
        p50,
        0.001 * p50,
        0.03,
    );
    theory(
        "mm1.ron: p99 [ms]",
        &latency(|l| l.p99_ms),
        p99,
        0.001 * p99,
        0.05,
    );
    let util = each(&reports, |r| r.service("server").unwrap().utilization);
    theory("mm1.ron: utilization", &util, 0.8, 0.0, 0.01);
    // At 900/s: 1/(1000 − 900) = 10 ms. Correlations last ~4× longer at ρ = 0.9: each
    // run's mean has s.e. ≈ 4 %, the ten ≈ 1.3 %; 5 s.e. stay under 8 %, far from 5 ms.
    let faster = edited(&model, &[("workload[clients].arrivals.per_second", "900")]);
    let mean = each(&runs(&faster, Some(300), &SEEDS), |r| {
        r.entry("clients").unwrap().latency.mean_ms
    });
    theory("mm1.ron: mean at 900/s [ms]", &mean, 10.0, 0.0, 0.08);
}

/// order-hybrid.ron. Checked elsewhere (`broker::hybrid_checkout_depends_on_sync_calls_only`):
/// the analytic 0.997, the simulated value within 5 s.e. of it, fulfilment's max lag in
/// [1,100, 2,100] and caught up at the end, notifications' ≈ 0. Here, in ten runs:
/// * "`checkout` availability ≈ 0.997";
/// * fulfilment's "lag grows by about 25 per second, to ~1,500";
/// * "checkouts go on at full speed" during the slowdown;
/// * "`microsim check` shows the groups' capacity (fulfilment 75/s normally)".
#[test]
fn order_hybrid_ron() {
    const FILE: &str = "order-hybrid.ron";
    const SLOW: (f64, f64) = (120.0, 180.0);
    let model = topology(FILE);
    assert_eq!(group_capacity(&model, "fulfilment"), 75.0);
    let reports = replicate(&model, &RunOptions::default());
    // ~11,600 checkouts per run: binomial s.e. 0.0005 per run.
    about_in(
        FILE,
        "checkout availability",
        &each(&reports, |r| r.entry("checkout").unwrap().availability),
        0.997,
        0.001,
    );
    let lag = |r: &Report, i: usize| {
        let t = &r.series.topics[0];
        assert_eq!(t.service, "fulfilment");
        t.lag[i] as f64
    };
    // The slowdown is 120 s to 180 s; the growth over 50 s inside it.
    let growth = each(&reports, |r| (lag(r, 175) - lag(r, 125)) / 50.0);
    about_in(
        FILE,
        "fulfilment's lag growth [messages/s]",
        &growth,
        25.0,
        5.0,
    );
    let max_lag = each(&reports, |r| {
        r.group("order-placed", "fulfilment").unwrap().max_lag as f64
    });
    about_in(FILE, "fulfilment's max lag", &max_lag, 1500.0, 100.0);
    // Full speed: the checkouts' mean latency in the 30 s slices inside the slowdown, paired
    // with the slices before it, differs by less than 5 % (each slice mean has s.e. ≈ 2 %).
    let slice_mean = |r: &Report, inside: bool| {
        let s = &r.series.entries[0].slices;
        let (sum, n) = s
            .iter()
            .filter(|sl| sl.from_s >= r.warmup_s)
            .filter(|sl| (sl.from_s >= SLOW.0 && sl.to_s <= SLOW.1) == inside)
            .filter(|sl| inside || sl.to_s <= SLOW.0)
            .fold((0.0, 0u64), |(sum, n), sl| {
                (
                    sum + sl.mean_ms.unwrap() * sl.answered as f64,
                    n + sl.answered,
                )
            });
        sum / n as f64
    };
    let before = each(&reports, |r| slice_mean(r, false));
    let during = each(&reports, |r| slice_mean(r, true));
    let d = paired(&before, &during);
    let (lo, hi) = d.interval().unwrap();
    let limit = 0.05 * Estimate::from_samples(&before).mean;
    println!(
        "{FILE}: checkout mean latency, slowdown − before: {:+.2} ms [{lo:+.2}, {hi:+.2}]",
        d.mean
    );
    assert!(lo > -limit && hi < limit, "[{lo}, {hi}] vs ±{limit}");
    for r in &reports {
        let (_, answered) = answers_in(r, "checkout", SLOW.0, SLOW.1);
        // 40/s for 60 s: 2,400 ± 49 (Poisson); ±250 is 5 s.d.
        assert!(
            answered.abs_diff(2400) < 250,
            "seed {}: {answered} answered",
            r.seed
        );
    }
}

/// registration-sync.ron. Checked elsewhere (`broker::events_isolate_the_producer_from_a_consumer_outage`):
/// availability within 0.03 of 0.83 in three runs, `unavail` answers. Here, in ten runs:
/// * "availability over the run drops to about 1 − 30/175 ≈ 0.83";
/// * "the timeline's 0 % slices from 60s to 90s";
/// * "p50 ≈ 20 ms";
/// * "latency is the sum of the three calls" (and the account's own work).
#[test]
fn registration_sync_ron() {
    const FILE: &str = "registration-sync.ron";
    let reports = replicate(&topology(FILE), &RunOptions::default());
    // ~8,750 sign-ups per run: binomial s.e. 0.004; the ten ±0.002.
    let availability = each(&reports, |r| r.entry("signups").unwrap().availability);
    about_in(FILE, "availability", &availability, 0.83, 0.01);
    let p50 = each(&reports, |r| r.entry("signups").unwrap().latency.p50_ms);
    about_in(FILE, "p50 [ms]", &p50, 20.0, 1.0);
    for r in &reports {
        let a = availability_in(r, "signups", 60.0, 90.0);
        assert!(
            a < 0.002,
            "seed {}: availability {a} from 60 s to 90 s",
            r.seed
        );
    }
    // Outside the outage a sign-up takes 3 + 20 + 5 + 1 = 29 ms on average (no queueing at
    // ρ ≤ 0.13). ~7,000 answers of s.d. ≈ 21 ms per run: s.e. 0.25 ms, 0.08 ms over ten.
    let healthy = each(&reports, |r| {
        let (sum, n) = r.series.entries[0]
            .slices
            .iter()
            .filter(|sl| sl.from_s >= r.warmup_s && (sl.to_s <= 60.0 || sl.from_s >= 90.0))
            .fold((0.0, 0u64), |(sum, n), sl| {
                (
                    sum + sl.mean_ms.unwrap() * sl.answered as f64,
                    n + sl.answered,
                )
            });
        sum / n as f64
    });
    theory(
        "registration-sync.ron: healthy mean latency [ms]",
        &healthy,
        29.0,
        0.0,
        0.03,
    );
}

/// registration-events.ron. Checked elsewhere (`broker::events_isolate_the_producer_from_a_consumer_outage`):
/// availability 1.0, p50 far below the synchronous one, email's max lag ≈ 1,500 and ≈ 30 s,
/// analytics' and cache's ≈ 0, nothing lost. Here, in ten runs:
/// * "its latency is the account's own work plus the publish": a mean of 3 + 1 ms;
/// * "p50 ≈ 3 ms" (vs ≈ 0.83 and ≈ 20 ms synchronously: [`registration_sync_ron`]);
/// * "when e-mail comes back it drains the backlog at 200 − 50 = 150 messages/s, in about
///   10 s" (`microsim check` gives the 200/s).
#[test]
fn registration_events_ron() {
    const FILE: &str = "registration-events.ron";
    let model = topology(FILE);
    assert_eq!(group_capacity(&model, "email"), 200.0);
    let reports = replicate(&model, &RunOptions::default());
    // Exp(3 ms) of work then a 1 ms publish: median 3 ln 2 + 1 = 3.08 ms.
    let p50 = each(&reports, |r| r.entry("signups").unwrap().latency.p50_ms);
    about_in(FILE, "p50 [ms]", &p50, 3.0, 1.0);
    // "its latency is the account's own work plus the publish": 3 + 1 = 4 ms on average,
    // outage or not (~8,750 sign-ups of s.d. 3 ms per run: s.e. 0.03 ms).
    let mean = each(&reports, |r| r.entry("signups").unwrap().latency.mean_ms);
    theory(
        "registration-events.ron: mean latency [ms]",
        &mean,
        4.0,
        0.0,
        0.03,
    );
    let drained = each(&reports, |r| {
        r.group("user-registered", "email")
            .unwrap()
            .drained_in_s
            .unwrap()
    });
    about_in(FILE, "email drained in [s]", &drained, 10.0, 1.0);
}

/// retry-storm.ron at the file's settings, five seeds (the storm costs ~25 database attempts
/// per request, and every run behaves alike).
fn storm() -> &'static Vec<Report> {
    static RESULT: OnceLock<Vec<Report>> = OnceLock::new();
    RESULT.get_or_init(|| runs(&topology("retry-storm.ron"), None, &SEEDS[..5]))
}

/// retry-storm.ron. Checked elsewhere (`resilience::retry_storm_outlives_its_trigger`, five
/// runs): availability 1.0 before 1m and 0 in the last 3 minutes, the database queue pinned
/// near 50, amplification ≥ 2.5 on every layer and ≈ 27 database attempts per request late in
/// the run, the database's work orphaned (`retry_amplification_lint_counts_unbudgeted_retries_only`:
/// the retry-amplification lint). Here:
/// * "The database serves 100 queries/s and gets 70: ρ = 0.7, healthy, p99 below 200 ms";
/// * "its queue grows past 30";
/// * "it now receives 27× the client load";
/// * `clients avail %` "then 0 to the end";
/// * "about 25 database attempts per client request" (the calls table, whole run);
/// * "orphaned work at mid, back and db";
/// * "only shedding load to a trickle ends it (a profile point dropping the rate to 5/s for
///   30 s does; 10/s does in only about a third of runs)";
/// * "`microsim check` warns about both causes: timeout-inversion and retry-amplification".
#[test]
fn retry_storm_ron() {
    const FILE: &str = "retry-storm.ron";
    let model = topology(FILE);
    let codes = lint_codes(&model);
    for code in ["timeout-inversion", "retry-amplification"] {
        assert!(codes.iter().any(|c| c == code), "no {code} in {codes:?}");
    }
    let db = model
        .analyze()
        .services
        .into_iter()
        .find(|s| s.name == "db")
        .unwrap();
    // 70 queries/s on 100/s of capacity; the shadow adds the retries of the few calls that
    // time out in normal times (an M/M/1 tail beyond the timeout: ~1e-4 of the load), so
    // "ρ = 0.7" holds to its one digit and far closer.
    assert!((db.utilization - 0.7).abs() < 1e-3, "{}", db.utilization);
    let reports = storm();
    for r in reports {
        let seed = r.seed;
        // Healthy: the first minute's p99 end to end (which includes the database's).
        let first = &r.series.entries[0].slices[0];
        assert!(first.to_s <= 60.0, "{first:?}");
        assert!(first.p99_ms.unwrap() < 200.0, "seed {seed}: {first:?}");
        let peak = max_in(r, &service_series(r, "db").queue, 60.0, 75.0);
        assert!(
            peak > 30.0,
            "seed {seed}: db queue peaks at {peak} in the slowdown"
        );
        // Every attempt fails from the end of the slowdown on, so every layer makes all 3.
        let after = attempts_per_request(r, "front", "db", 75.0, r.duration_s);
        assert!(
            (26.5..=27.0).contains(&after),
            "seed {seed}: {after} per request"
        );
        let a = availability_in(r, "clients", 62.0, r.duration_s);
        assert!(a < 0.001, "seed {seed}: availability {a} after 62 s");
        for s in ["mid", "back", "db"] {
            let w = r.service(s).unwrap().orphaned_work_s;
            assert!(w > 1000.0, "seed {seed}: {s} orphaned {w} worker-s");
        }
        // The clients never give up, so the front has none.
        assert_eq!(
            r.service("front").unwrap().orphaned_work_s,
            0.0,
            "seed {seed}"
        );
    }
    let product = each(reports, |r| {
        r.calls.iter().map(|c| c.amplification).product()
    });
    about_in(
        FILE,
        "database attempts per client request",
        &product,
        25.0,
        1.0,
    );

    // Shedding: the rate drops at 2m for 30 s, then comes back to 70/s; a run ends 90 s
    // later, recovered (availability ≥ 0.99 from 2m50s) or still in the storm (≤ 0.05).
    // Twenty runs at each rate.
    let shed = |rate: u32| -> u64 {
        let m = edited(
            &model,
            &[(
                "workload[clients].arrivals.profile",
                &format!(r#"[(at: "2m", per_second: {rate}), (at: "150s", per_second: 70)]"#),
            )],
        );
        let seeds: Vec<u64> = (100..120).collect();
        let mut recovered = 0;
        for r in runs(&m, Some(240), &seeds) {
            let a = availability_in(&r, "clients", 170.0, 240.0);
            assert!(
                a >= 0.99 || a <= 0.05,
                "seed {}: {rate}/s: availability {a}",
                r.seed
            );
            recovered += u64::from(a >= 0.99);
        }
        println!("{FILE}: shedding to {rate}/s ends the storm in {recovered} of 20 runs");
        recovered
    };
    assert_eq!(shed(5), 20, "5/s ends the storm every time");
    let k = shed(10);
    let (lo, hi) = wilson_interval(k, 20).unwrap();
    assert!(
        lo < 1.0 / 3.0 && 1.0 / 3.0 < hi && k > 0,
        "{k} of 20: [{lo}, {hi}]"
    );
}

/// retry-storm-budget.ron. Checked elsewhere (`resilience::retry_budget_stops_the_storm`):
/// availability ≥ 0.99 from 15 s after the slowdown, amplification ≤ 1.01 and retries
/// denied on every call; the retry-amplification lint silent. Here:
/// * "the database gets the clients' 70/s and nothing more, drains its queue within seconds
///   of the slowdown's end";
/// * "`clients avail %` dips during the slowdown slice and is back to 100 right after";
/// * "Retries still cover the odd isolated failure in normal times" (with db failing 1 %);
/// * "An Envoy budget, `Envoy(percent: 20)`, is not enough here: … the storm persists".
#[test]
fn retry_storm_budget_ron() {
    const FILE: &str = "retry-storm-budget.ron";
    let model = topology(FILE);
    for r in &replicate(&model, &RunOptions::default()) {
        let seed = r.seed;
        let per_request = attempts_per_request(r, "front", "db", 62.0, 75.0);
        assert!(
            per_request < 1.02,
            "seed {seed}: {per_request} db attempts per request"
        );
        // The queue of 50 is empty again seconds after 75 s (normal mean 0.7, ρ = 0.7).
        let q = max_in(r, &service_series(r, "db").queue, 80.0, 90.0);
        assert!(q < 10.0, "seed {seed}: db queue {q} after the slowdown");
        let during = availability_in(r, "clients", 60.0, 120.0);
        let after = availability_in(r, "clients", 80.0, r.duration_s);
        assert!(
            during < 0.9 && after > 0.99,
            "seed {seed}: {during} then {after}"
        );
    }
    // Isolated failures: db fails 1 % of queries. Without retries 1 % of requests would fail
    // (~60 in the 90 s after the slowdown); with the refilled budgets every layer retries
    // them: nothing fails there (0.01² at back alone is 10⁻⁴).
    let flaky = edited(&model, &[("services[db].errors", "0.01")]);
    for r in runs(&flaky, Some(180), &SEEDS) {
        let seed = r.seed;
        let (good, all) = answers_in(&r, "clients", 90.0, 180.0);
        assert!(
            all - good <= 1,
            "seed {seed}: {} of {all} failed",
            all - good
        );
        let retried = attempts_per_request(&r, "back", "db", 90.0, 180.0);
        assert!(retried > 1.005, "seed {seed}: {retried} attempts per call");
    }
    // Envoy budgets of 20 %: still a storm. Five runs of 5 minutes: availability stays at 0
    // from the slowdown on (measured 0.0 on every seed).
    let envoy = [
        (
            "services[front].steps[0].retry.budget",
            "Envoy(percent: 20)",
        ),
        ("services[mid].steps[0].retry.budget", "Envoy(percent: 20)"),
        ("services[back].steps[0].retry.budget", "Envoy(percent: 20)"),
    ];
    for r in runs(&edited(&model, &envoy), Some(300), &SEEDS[..5]) {
        let a = availability_in(&r, "clients", 80.0, r.duration_s);
        assert!(
            a < 0.01,
            "seed {}: availability {a} with Envoy budgets",
            r.seed
        );
    }
}

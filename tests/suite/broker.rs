//! The broker end to end: topics, consumer groups, lag and retention.

use crate::common::{assert_matches, model, opts, replicate};
use microsim::{Report, RunOptions};

/// A producer publishing to a one-partition topic read by one consumer with Exp(1 ms)
/// processing: the partition is an M/M/1 queue (λ = 800/s, ρ = 0.8), so the end-to-end
/// latency from publish to processed has mean 1/(μ − λ) = 5 ms, while the producer's own
/// latency is its work plus the publish acknowledgement and does not see the queue.
fn mm1_topic(partitions: u32, consumers: u32, per_second: f64) -> microsim::Model {
    model(&format!(
        r#"Topology(
    workload: [(name: "orders", entry: "shop", arrivals: Poisson(per_second: {per_second}))],
    services: {{
        "shop": (workers: 8, work: Const("100us"), steps: [Publish(topic: "placed", latency: Const("1ms"))]),
        "fulfil": (replicas: {consumers}, workers: 1, work: Exp(mean: "1ms")),
    }},
    topics: {{
        "placed": (partitions: {partitions}, subscribers: [(service: "fulfil", consumers: {consumers})]),
    }},
)"#
    ))
}

fn group(r: &Report) -> &microsim::report::GroupReport {
    &r.topics[0].groups[0]
}

/// Ten replications of 200 s (about 160,000 messages each): at ρ = 0.8 sojourn times are
/// strongly autocorrelated, so the across-seed standard error of the mean is ~0.8 %;
/// `assert_matches` allows 5 s.e. plus a 0.5 % warm-up bias, under 6 % of W in all.
#[test]
fn a_partition_with_one_consumer_is_an_mm1_queue() {
    let reports = replicate(&mm1_topic(1, 1, 800.0), &opts(200.0, 2.0));
    let w: Vec<f64> = reports.iter().map(|r| group(r).latency.mean_ms).collect();
    assert_matches("end-to-end latency [ms]", &w, 5.0, 0.005 * 5.0, 0.06);
    for r in &reports {
        // The producer's latency is its own: 0.1 ms of work + 1 ms to the broker's ack (plus
        // a rare wait for one of its 8 workers), whatever the consumer's queue does.
        let e = r.entry("orders").unwrap();
        assert!(
            (1.1..1.11).contains(&e.latency.mean_ms),
            "{}",
            e.latency.mean_ms
        );
        assert_eq!(e.availability, 1.0);
    }
}

/// produced = consumed + lag + expired for every group, with and without retention, and no
/// message is processed twice or skipped without being counted.
#[test]
fn messages_are_conserved() {
    for retention in ["", r#", retention: "2s""#] {
        // Over capacity (1,200/s offered to 1,000/s): a backlog builds, and with a 2 s
        // retention the oldest unconsumed messages are deleted.
        let text = format!(
            r#"Topology(
    run: (duration: "30s", seed: 3),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 1200))],
    services: {{
        "p": (workers: 4, steps: [Publish(topic: "t")]),
        "c": (workers: 1, work: Exp(mean: "1ms")),
    }},
    topics: {{ "t": (partitions: 1{retention}, subscribers: [(service: "c")]) }},
)"#
        );
        let r = model(&text).run(&RunOptions::default()).unwrap();
        let t = &r.topics[0];
        let g = &t.groups[0];
        assert_eq!(
            t.produced,
            g.consumed + g.lag + g.expired,
            "{retention}: {g:?}"
        );
        if retention.is_empty() {
            assert_eq!(g.expired, 0);
        } else {
            assert!(g.expired > 1000, "{g:?}");
            // Nothing older than the retention is left unconsumed (up to one sweep, 1 s).
            assert!(g.time_lag_s <= 3.0 + 1e-9, "{g:?}");
        }
    }
}

/// Over capacity, lag grows at λ − capacity. With λ = 1,200/s and one consumer serving
/// Exp(1 ms) back to back (capacity 1,000/s), after 30 s the lag is about 200 × 30 = 6,000;
/// its standard deviation is about sqrt((λ + μ)·T) ≈ 260 (the difference of two Poisson-like
/// counts), so ±1,300 is 5 s.d.
#[test]
fn lag_grows_at_arrival_rate_minus_capacity() {
    let text = r#"Topology(
    run: (duration: "30s", seed: 9),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 1200))],
    services: {
        "p": (workers: 4, steps: [Publish(topic: "t")]),
        "c": (workers: 1, work: Exp(mean: "1ms")),
    },
    topics: { "t": (partitions: 1, subscribers: [(service: "c")]) },
)"#;
    let r = model(text).run(&RunOptions::default()).unwrap();
    let g = &r.topics[0].groups[0];
    assert!((g.lag as f64 - 6000.0).abs() < 1300.0, "lag {}", g.lag);
    // The series grows too: the last bucket's lag is the final lag, the first is small.
    let s = &r.series.topics[0];
    assert_eq!(*s.lag.last().unwrap(), g.lag);
    assert!(s.lag[0] < 600, "{:?}", &s.lag[..3]);
    // The analytic shadow predicts the rate, the capacity and the growth exactly.
    let a = &r.analysis.topics[0];
    assert!((a.rate_per_s - 1200.0).abs() < 1e-9);
    assert!((a.groups[0].capacity_per_s - 1000.0).abs() < 1e-9);
    assert!((a.groups[0].lag_growth_per_s - 200.0).abs() < 1e-9);
    assert!(r.analysis.lints.iter().any(|l| l.code == "lag-grows"));
    // Time lag: the oldest uncommitted message waited about lag / capacity ≈ 6 s.
    assert!((3.0..=9.0).contains(&g.time_lag_s), "{}", g.time_lag_s);
}

/// Consumers beyond the partition count idle: with 2 partitions, a group of 4 consumers
/// behaves exactly like a group of 2.
#[test]
fn extra_consumers_idle() {
    let two = mm1_topic(2, 2, 1500.0).run(&opts(20.0, 1.0)).unwrap();
    let four = mm1_topic(2, 4, 1500.0).run(&opts(20.0, 1.0)).unwrap();
    let busy = |r: &Report| {
        r.service("fulfil")
            .map(|s| s.mean_busy_workers)
            .unwrap_or_default()
    };
    // λ = 1,500/s of 1 ms work: 1.5 busy workers on average either way.
    assert!((busy(&two) - 1.5).abs() < 0.1, "{}", busy(&two));
    assert!((busy(&four) - 1.5).abs() < 0.1, "{}", busy(&four));
    // Keyless messages go to the partitions in turn, so each of the two partitions sees every
    // other arrival: Erlang-2 gaps at 750/s, an E2/M/1 queue, not M/M/1. GI/M/1 gives
    // W = 1/(μ(1 − σ)) with σ the root of σ = A*(μ(1 − σ)), A*(s) = (2λ/(2λ + s))² here
    // (σ ≈ 0.677, W ≈ 3.10 ms; M/M/1 would give 4 ms). 20 s hold ~15,000 messages per
    // partition, a relative s.e. of the mean of ~2 %: ±8 % is 4 s.e. and excludes 4 ms.
    let (lambda, mu) = (750.0, 1000.0);
    let mut sigma = 0.5f64;
    for _ in 0..500 {
        sigma = (2.0 * lambda / (2.0 * lambda + mu * (1.0 - sigma))).powi(2);
    }
    let expected_ms = 1e3 / (mu * (1.0 - sigma));
    for r in [&two, &four] {
        let w = group(r).latency.mean_ms;
        assert!(
            (w - expected_ms).abs() < 0.08 * expected_ms,
            "{w} vs {expected_ms}"
        );
    }
}

/// Bad input around topics: each message names the place.
#[test]
fn topic_errors_name_the_place() {
    let base = |topics: &str, step: &str| {
        format!(
            r#"Topology(
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 1))],
    services: {{ "p": (steps: [{step}]), "c": () }},
    topics: {{ {topics} }},
)"#
        )
    };
    let cases = [
        (
            base(
                r#""orders": (subscribers: [(service: "c")])"#,
                r#"Publish(topic: "ordres")"#,
            ),
            "services[p].steps[0].topic",
            "did you mean `orders`",
        ),
        (
            base(r#""t": (partitions: 0)"#, r#"Publish(topic: "t")"#),
            "topics[t].partitions",
            "1 to 10000 partitions, not 0",
        ),
        (
            base(
                r#""t": (subscribers: [(service: "cc")])"#,
                r#"Publish(topic: "t")"#,
            ),
            "topics[t].subscribers[0].service",
            "did you mean `c`",
        ),
        (
            base(
                r#""t": (subscribers: [(service: "c", consumers: 0)])"#,
                r#"Publish(topic: "t")"#,
            ),
            "topics[t].subscribers[0].consumers",
            "1 to 10000 consumers, not 0",
        ),
        (
            base(r#""t": (retention: "0s")"#, r#"Publish(topic: "t")"#),
            "topics[t].retention",
            "longer than 0",
        ),
        (
            base(
                r#""t": (subscribers: [(service: "c"), (service: "c")])"#,
                r#"Publish(topic: "t")"#,
            ),
            "topics[t].subscribers[1].service",
            "subscribes twice",
        ),
        (
            base(r#""t": ()"#, r#"Publish(topic: "t", probability: 2.0)"#),
            "services[p].steps[0].probability",
            "between 0 and 1",
        ),
    ];
    for (text, path, words) in cases {
        let err = microsim::parse(&text, "t.ron").unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{text}\n{err}");
        assert_eq!(problems[0].path, path, "{err}");
        assert!(problems[0].text().contains(words), "{err}");
        assert!(problems[0].line.is_some(), "{err}");
    }
}

/// topologies/lag.ron: a 30 s consumer outage becomes lag, not errors, and drains after it.
/// The lag grows at the publish rate (100/s, Poisson: after 30 s, 3,000 ± 55 s.d., so ±300 is
/// over 5 s.d.) and, once the consumers rejoin, drains at 800 − 100 = 700/s: ~4.3 s, checked
/// within 10 s. The producer's availability is untouched.
#[test]
fn a_consumer_outage_builds_lag_that_drains() {
    let model =
        microsim::load(crate::common::root().join("topologies/lag.ron")).expect("lag.ron loads");
    for seed in [4, 5, 6] {
        let r = model
            .run(&RunOptions {
                seed: Some(seed),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.entry("signups").unwrap().availability, 1.0, "seed {seed}");
        let t = &r.topics[0];
        let g = &t.groups[0];
        assert_eq!(t.produced, g.consumed + g.lag + g.expired, "seed {seed}");
        assert!(
            (g.max_lag as f64 - 3000.0).abs() < 300.0,
            "seed {seed}: max lag {}",
            g.max_lag
        );
        // Per partition: the lags add up, and each keyless partition held about half.
        assert_eq!(
            g.lag_per_partition.iter().sum::<u64>(),
            g.lag,
            "seed {seed}"
        );
        for &max in &g.max_lag_per_partition {
            assert!((max as f64 - 1500.0).abs() < 250.0, "seed {seed}: {max}");
        }
        assert!(
            (g.max_time_lag_s - 30.0).abs() < 1.5,
            "seed {seed}: max time lag {}",
            g.max_time_lag_s
        );
        // The lag series (1 s buckets): below 20 before the outage, climbing through it, and
        // back below 20 within 10 s of the end of the outage (at 90 s).
        let lag = &r.series.topics[0].lag;
        assert!(
            lag[..59].iter().all(|&l| l < 20),
            "seed {seed}: {:?}",
            &lag[..59]
        );
        assert!(lag[70] > 800 && lag[80] > lag[70], "seed {seed}");
        let drained = (89..lag.len()).find(|&i| lag[i] < 20).expect("drains");
        assert!(drained <= 100, "seed {seed}: drained at {drained} s");
        // The report says how long: ~3,000 messages at 700/s ≈ 4.3 s, in whole 1 s buckets
        // from the peak (the end of the outage).
        let d = g.drained_in_s.expect("drained");
        assert!((4.0..=7.0).contains(&d), "seed {seed}: drained in {d} s");
        assert!(lag[drained..].iter().all(|&l| l < 20), "seed {seed}");
    }
}

/// A backlog that builds from the start of the run: a consumer of capacity 500/s (2 ms
/// constant work) receives 600/s for 60 s, then 200/s. The lag grows at 100/s to about 6,000
/// (Poisson: ± 77 s.d. on 36,000 arrivals, ± 245 in all with the lag's own noise) and drains at
/// 500 − 200 = 300/s, to empty in about 20 s. `drained_in_s` once measured the drain to the
/// lower quartile of the lags before the peak, a quarter of the way up the build-up (about
/// 1,500 messages), and said 15 s; now it is the drain to the quiet level before the build-up:
/// max_lag / 300 within 2 s (one 1 s bucket at each end, and the ± 245 messages at 300/s).
#[test]
fn a_backlog_that_builds_from_the_start_drains_to_empty() {
    let m = model(
        r#"Topology(
            run: (duration: "150s", warmup: "0s"),
            workload: [(name: "p", publish: "t", arrivals: Poisson(per_second: 600,
                profile: [(at: "60s", per_second: 200)]))],
            services: { "c": (work: Const("2ms")) },
            topics: { "t": (subscribers: [(service: "c")]) },
        )"#,
    );
    for seed in [1, 2, 3] {
        let r = m
            .run(&RunOptions {
                seed: Some(seed),
                ..Default::default()
            })
            .unwrap();
        let g = &r.topics[0].groups[0];
        assert!(
            (g.max_lag as f64 - 6000.0).abs() < 600.0,
            "seed {seed}: {g:?}"
        );
        let expected = g.max_lag as f64 / 300.0;
        let d = g.drained_in_s.expect("drained");
        assert!(
            (d - expected).abs() <= 2.0,
            "seed {seed}: drained in {d} s, expected {expected:.1} s"
        );
        // Drained means empty here: the lag at the bucket where it drained is within 1 % of
        // the peak of zero.
        let lag = &r.series.topics[0].lag;
        let drained_at = lag.iter().position(|&l| l == g.max_lag).unwrap() + d as usize;
        assert!(
            lag[drained_at] as f64 <= 0.01 * g.max_lag as f64 + 1.0,
            "seed {seed}: {lag:?}"
        );
    }
}

/// registration-sync.ron vs registration-events.ron: the same services and the same 30 s
/// e-mail outage. Synchronously every sign-up during the outage fails (availability
/// ≈ 1 − 30/175 ≈ 0.83; 8,700 sign-ups give a binomial s.e. of 0.004, and ±0.03 allows the
/// outage's share of Poisson arrivals to vary); with an event the sign-ups stay available and
/// fast, and only the e-mail group lags (~1,500 messages, ~30 s), the others not at all.
#[test]
fn events_isolate_the_producer_from_a_consumer_outage() {
    let load =
        |f: &str| microsim::load(crate::common::root().join("topologies").join(f)).expect("loads");
    let (sync, events) = (
        load("registration-sync.ron"),
        load("registration-events.ron"),
    );
    for seed in [21, 22, 23] {
        let opts = RunOptions {
            seed: Some(seed),
            ..Default::default()
        };
        let s = sync.run(&opts).unwrap();
        let e = events.run(&opts).unwrap();
        let (se, ee) = (s.entry("signups").unwrap(), e.entry("signups").unwrap());
        assert!(
            (se.availability - 0.83).abs() < 0.03,
            "seed {seed}: {}",
            se.availability
        );
        assert!(se.outcomes.unavailable > 1000, "seed {seed}");
        assert_eq!(ee.availability, 1.0, "seed {seed}");
        assert!(
            ee.latency.p50_ms * 3.0 < se.latency.p50_ms,
            "seed {seed}: p50 {} vs {}",
            ee.latency.p50_ms,
            se.latency.p50_ms
        );
        let groups = &e.topics[0].groups;
        let email = groups.iter().find(|g| g.service == "email").unwrap();
        assert!(
            (email.max_lag as f64 - 1500.0).abs() < 250.0,
            "seed {seed}: {}",
            email.max_lag
        );
        assert!((email.max_time_lag_s - 30.0).abs() < 1.5, "seed {seed}");
        for g in groups.iter().filter(|g| g.service != "email") {
            assert!(
                g.max_lag < 50,
                "seed {seed}: {} lag {}",
                g.service,
                g.max_lag
            );
        }
        // Nothing is lost: every event is processed by every group by the end.
        for g in groups {
            assert_eq!(e.topics[0].produced, g.consumed + g.lag + g.expired);
            assert!(g.lag < 20, "seed {seed}: {} lag {}", g.service, g.lag);
        }
    }
}

/// order-hybrid.ron: the checkout's availability is the product over its synchronous calls
/// (0.997), whatever happens to the event's consumers; a ×5 slowdown of fulfilment for a
/// minute makes only its group lag (about (40 − 15) × 60 = 1,500, plus the messages started
/// slow near the end of the window and Poisson noise: checked within [1,100, 2,100]) and
/// it catches up by the end.
#[test]
fn hybrid_checkout_depends_on_sync_calls_only() {
    let model =
        microsim::load(crate::common::root().join("topologies/order-hybrid.ron")).expect("loads");
    for seed in [8, 9, 10] {
        let r = model
            .run(&RunOptions {
                seed: Some(seed),
                ..Default::default()
            })
            .unwrap();
        let e = r.entry("checkout").unwrap();
        let analytic = r.analysis.entries[0].availability;
        assert!((analytic - 0.999 * 0.998).abs() < 1e-12);
        assert!(
            (e.availability - analytic).abs() < 5.0 * e.availability_se.max(1e-4),
            "seed {seed}: {} vs {analytic}",
            e.availability
        );
        let groups = &r.topics[0].groups;
        let f = groups.iter().find(|g| g.service == "fulfilment").unwrap();
        let n = groups
            .iter()
            .find(|g| g.service == "notifications")
            .unwrap();
        assert!(
            (1100..=2100).contains(&f.max_lag),
            "seed {seed}: {}",
            f.max_lag
        );
        assert!(n.max_lag < 50, "seed {seed}: {}", n.max_lag);
        assert!(f.lag < 20 && n.lag < 20, "seed {seed}: {} {}", f.lag, n.lag);
    }
}

fn failing_consumer(extra: &str, errors: &str, faults: &str) -> microsim::Model {
    model(&format!(
        r#"Topology(
    run: (duration: "60s", seed: 13),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 200))],
    services: {{
        "p": (workers: 4, steps: [Publish(topic: "t")]),
        "c": (replicas: 2, workers: 2, work: Exp(mean: "1ms"){errors}),
    }},
    topics: {{ "t": (partitions: 2, subscribers: [(service: "c", consumers: 2{extra})]) }},
    faults: [{faults}],
)"#
    ))
}

/// A consumer failing 20 % of its attempts, with 3 attempts per message: a message is
/// dead-lettered with probability 0.2³ = 0.008 and retried 0.2 + 0.2² = 0.24 times on
/// average. 12,000 messages: the dead-lettered count is binomial (mean 96, s.d. ≈ 10, checked
/// within ±50); retries have mean 2,880 and s.d. ≈ 60 (±300). Nothing is lost.
#[test]
fn failed_messages_are_retried_then_dead_lettered() {
    let r = failing_consumer(", max_attempts: 3", ", errors: 0.2", "")
        .run(&RunOptions::default())
        .unwrap();
    let (t, g) = (&r.topics[0], &r.topics[0].groups[0]);
    let n = t.produced as f64;
    assert!((g.dead_lettered as f64 - 0.008 * n).abs() < 50.0, "{g:?}");
    assert!((g.retries as f64 - 0.24 * n).abs() < 300.0, "{g:?}");
    assert_eq!(t.produced, g.consumed + g.lag + g.expired + g.dead_lettered);
    assert_eq!(g.failed, g.retries + g.dead_lettered);
}

/// The same consumer failing everything for 10 s (an error burst): with `DeadLetter`, about
/// 200 × 10 = 2,000 messages go to the dead-letter topic and the lag stays small; with
/// `Block`, each partition stops at its failing message (head-of-line blocking), the lag
/// grows to about 2,000, nothing is dead-lettered, and it drains after the burst.
#[test]
fn a_blocked_partition_waits_where_a_dead_letter_topic_moves_on() {
    let burst = r#"(at: "20s", lasts: "10s", fault: ErrorBurst(service: "c", errors: 1.0))"#;
    let dlq = failing_consumer(", max_attempts: 3", "", burst)
        .run(&RunOptions::default())
        .unwrap();
    let g = &dlq.topics[0].groups[0];
    assert!((g.dead_lettered as f64 - 2000.0).abs() < 250.0, "{g:?}");
    assert!(g.max_lag < 100, "{g:?}");
    let blocked = failing_consumer(
        r#", max_attempts: 3, retry_backoff: "50ms", on_exhausted: Block"#,
        "",
        burst,
    )
    .run(&RunOptions::default())
    .unwrap();
    let (t, g) = (&blocked.topics[0], &blocked.topics[0].groups[0]);
    // A blocking group whose service errs on its own is flagged before any run.
    let flagged = failing_consumer(", on_exhausted: Block", ", errors: 0.01", "").analyze();
    assert!(flagged.lints.iter().any(|l| l.code == "blocking-on-errors"));
    assert!(!blocked
        .analysis
        .lints
        .iter()
        .any(|l| l.code == "blocking-on-errors"));
    assert_eq!(g.dead_lettered, 0);
    assert!((g.max_lag as f64 - 2000.0).abs() < 250.0, "{g:?}");
    assert!(g.lag < 20, "drained: {g:?}");
    assert_eq!(t.produced, g.consumed + g.lag + g.expired + g.dead_lettered);
}

fn crashing_consumer(extra: &str) -> microsim::Model {
    model(&format!(
        r#"Topology(
    run: (duration: "60s", seed: 17),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 100))],
    services: {{
        "p": (workers: 4, steps: [Publish(topic: "t")]),
        "c": (replicas: 2, workers: 1, work: Exp(mean: "2ms")),
    }},
    topics: {{ "t": (partitions: 2, subscribers: [
        (service: "c", consumers: 2, session_timeout: "5s", commit_interval: "5s"{extra}),
    ]) }},
    faults: [(at: "32s", lasts: "20s", fault: Crash(service: "c", replicas: 1))],
)"#
    ))
}

/// With commits every 5 s, a consumer that crashes loses its uncommitted progress: after the
/// session timeout its partition moves to the other consumer, which starts again from the
/// committed offset and processes again what was processed since the last commit — at most
/// 5 s × 50 messages/s per partition, here 2 s' worth (the crash comes 2 s after a commit
/// at 30 s): about 100 duplicates, checked within (0, 250]. An idempotent consumer remembers
/// what it processed and skips those redeliveries instead: no duplicate is processed.
#[test]
fn commit_intervals_make_duplicates_that_idempotent_consumers_skip() {
    let plain = crashing_consumer("").run(&RunOptions::default()).unwrap();
    let g = &plain.topics[0].groups[0];
    assert!(g.duplicates > 0 && g.duplicates <= 250, "{g:?}");
    assert!(g.redelivered >= g.duplicates, "{g:?}");
    assert_eq!(g.skipped, 0);
    let t = &plain.topics[0];
    assert_eq!(t.produced, g.consumed + g.lag + g.expired + g.dead_lettered);

    let idem = crashing_consumer(r#", idempotent: "1m""#)
        .run(&RunOptions::default())
        .unwrap();
    let g = &idem.topics[0].groups[0];
    assert_eq!(g.duplicates, 0, "{g:?}");
    assert!(g.skipped > 0 && g.skipped <= 250, "{g:?}");
    let t = &idem.topics[0];
    assert_eq!(t.produced, g.consumed + g.lag + g.expired + g.dead_lettered);
}

/// Keys decide partitions: with one key every message goes to one partition, so one of the
/// four consumers does all the work (an M/M/1 queue at ρ = 0.8: W = 5 ms) while three idle;
/// keyless messages spread in turn over the four (ρ = 0.2 each: W ≈ 1.0 ms); a large key
/// space spreads them at random (four M/M/1 queues at ρ = 0.2: W = 1.25 ms). 20 s hold
/// 16,000 messages; the margins (W > 3.5 ms vs < 1.6 ms) are far outside sampling noise.
#[test]
fn keys_pick_partitions() {
    let run = |keys: &str| {
        model(&format!(
            r#"Topology(
    run: (duration: "20s", warmup: "1s", seed: 5),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 800))],
    services: {{
        "p": (workers: 8, steps: [Publish(topic: "t"{keys})]),
        "c": (replicas: 4, workers: 1, work: Exp(mean: "1ms")),
    }},
    topics: {{ "t": (partitions: 4, subscribers: [(service: "c", consumers: 4)]) }},
)"#
        ))
        .run(&RunOptions::default())
        .unwrap()
    };
    let one = run(", keys: 1");
    let keyless = run("");
    let many = run(", keys: 100000");
    // One key fills one partition; the others get nothing.
    let per = &one.topics[0].produced_per_partition;
    assert_eq!(per.iter().filter(|&&n| n > 0).count(), 1, "{per:?}");
    let w = |r: &Report| group(r).latency.mean_ms;
    assert!(w(&one) > 3.5, "{}", w(&one));
    assert!(w(&keyless) < 1.6, "{}", w(&keyless));
    assert!(w(&many) < 1.6, "{}", w(&many));
    // The shadow knows one key uses one partition: one consumer, capacity 1,000/s.
    assert_eq!(one.analysis.topics[0].groups[0].consumers_used, 1);
    assert_eq!(keyless.analysis.topics[0].groups[0].consumers_used, 4);
}

/// A producer publishing 100 messages/s to a two-partition topic, whose consumer is fast,
/// with a fault at 10 s for 5 s and the producer's `when_down` as given. The producer has
/// workers to spare, so that waiting producers do not also queue for workers.
fn outage(fault: &str, when_down: &str, keys: &str) -> Report {
    let text = format!(
        r#"Topology(
    run: (duration: "30s", seed: 11),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 100))],
    services: {{
        "p": (workers: 1000, steps: [Publish(topic: "t"{keys}, when_down: {when_down})]),
        "c": (replicas: 2, workers: 1, work: Exp(mean: "1ms")),
    }},
    topics: {{ "t": (partitions: 2, subscribers: [(service: "c", consumers: 2)]) }},
    faults: [(at: "10s", lasts: "5s", fault: {fault})],
)"#
    );
    model(&text).run(&RunOptions::default()).unwrap()
}

/// Poisson counts over a window: within 5 standard deviations of `mean`.
fn about(what: &str, count: u64, mean: f64) {
    assert!(
        (count as f64 - mean).abs() <= 5.0 * mean.sqrt(),
        "{what}: {count}, expected about {mean}"
    );
}

/// A broker outage with `Fail`: every publish in the 5 s fails and the producer's requests
/// end `unavailable` — the async flow is only as available as its broker.
#[test]
fn a_broker_outage_fails_publishes_that_cannot_wait() {
    let r = outage("BrokerDown", "Fail", "");
    let p = &r.publishes[0];
    about("failed publishes", p.failed, 500.0);
    let e = r.entry("w").unwrap();
    assert_eq!(e.outcomes.unavailable, p.failed);
    assert!(
        (e.availability - 25.0 / 30.0).abs() < 0.02,
        "{}",
        e.availability
    );
    // Nothing is lost once published: produced = consumed (+ a few in flight).
    let g = group(&r);
    assert_eq!(r.topics[0].produced, p.published);
    assert!(r.topics[0].produced - g.consumed <= 2);
}

/// `Wait(timeout: "2s")`: a publish attempted in the first 3 s of the outage gives up after
/// 2 s (`timeout`); one attempted in the last 2 s waits for the broker and succeeds, so the
/// producer's latency reaches 2 s but nothing is lost.
#[test]
fn a_waiting_producer_blocks_then_times_out_or_publishes() {
    let r = outage("BrokerDown", r#"Wait(timeout: "2s")"#, "");
    let p = &r.publishes[0];
    about("waited", p.waited, 500.0);
    about("timed out", p.timed_out, 300.0);
    let e = r.entry("w").unwrap();
    assert_eq!(e.outcomes.timeout, p.timed_out);
    assert!(
        e.latency.max_ms > 1900.0 && e.latency.max_ms <= 2000.0 + 1e-6,
        "{:?}",
        e.latency
    );
    assert_eq!(p.published + p.timed_out, e.offered);
}

/// `Buffer(limit)`: the producer keeps going; the buffered messages are published when the
/// broker is back (a burst of lag that drains). A buffer smaller than the outage's
/// production fails the rest.
#[test]
fn a_producer_buffer_absorbs_an_outage_up_to_its_limit() {
    let r = outage("BrokerDown", "Buffer(limit: 10000)", "");
    let p = &r.publishes[0];
    about("buffered", p.buffered, 500.0);
    assert_eq!(p.max_buffered, p.buffered);
    assert_eq!((p.failed, p.in_buffer), (0, 0));
    assert_eq!(r.entry("w").unwrap().availability, 1.0);
    // The burst reaches the consumers at once and drains within a bucket (so `max_lag`,
    // sampled at bucket ends, misses it); the last buffered message waited ~ its share.
    let g = group(&r);
    assert!(g.latency.max_ms > 100.0, "{g:?}");
    assert!(g.lag <= 2);

    let r = outage("BrokerDown", "Buffer(limit: 200)", "");
    let p = &r.publishes[0];
    assert_eq!(p.max_buffered, 200);
    about("failed with a full buffer", p.failed, 300.0);
    assert_eq!(r.entry("w").unwrap().outcomes.unavailable, p.failed);
}

/// A partition leader outage: keyless messages go to the other partition and nothing
/// fails; keyed messages whose key lives on the dead partition fail (here, two keys on two
/// partitions: the keys hash to both, so about half fail during the outage).
#[test]
fn a_leader_outage_moves_keyless_messages_and_fails_keyed_ones() {
    let fault = r#"LeaderDown(topic: "t", partition: 0)"#;
    let r = outage(fault, "Fail", "");
    assert_eq!(r.publishes[0].failed, 0);
    assert_eq!(r.entry("w").unwrap().availability, 1.0);
    let keyed = outage(fault, "Fail", ", keys: 1000");
    about("keyed failures", keyed.publishes[0].failed, 250.0);
}

/// A slow broker: every publish waits the extra latency for its acknowledgement.
#[test]
fn a_slow_broker_slows_the_producers() {
    let r = outage(r#"BrokerSlow(add: Const("50ms"))"#, "Fail", "");
    let e = r.entry("w").unwrap();
    // A sixth of the requests take 50 ms, the rest no time at all.
    assert!(
        (e.latency.mean_ms - 50.0 / 6.0).abs() < 1.0,
        "{:?}",
        e.latency
    );
    assert_eq!(e.latency.max_ms, 50.0);
}

#[test]
fn broker_fault_input_is_checked() {
    for (fault, when_down, expect) in [
        (
            r#"LeaderDown(topic: "nope", partition: 0)"#,
            "Fail",
            "unknown topic `nope`",
        ),
        (
            r#"LeaderDown(topic: "t", partition: 2)"#,
            "Fail",
            "there is no partition 2",
        ),
        (
            "BrokerDown",
            "Buffer(limit: 0)",
            "a buffer of 0 messages holds nothing",
        ),
        ("BrokerDown", r#"Wait(timeout: "0s")"#, "when_down.timeout"),
    ] {
        let text = format!(
            r#"Topology(
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 1))],
    services: {{ "p": (steps: [Publish(topic: "t", when_down: {when_down})]), "c": () }},
    topics: {{ "t": (partitions: 2, subscribers: [(service: "c")]) }},
    faults: [(at: "1s", lasts: "1s", fault: {fault})],
)"#
        );
        let err = microsim::parse(&text, "t.ron").unwrap_err().to_string();
        assert!(err.contains(expect), "{err}");
    }
}

/// `tests/data/side-by-side.ron`: the same flow sync, async and hybrid in one topology, each
/// with its own services, under the same e-mail outage (30 s of 170 s measured). Sync loses
/// the outage's share of its requests; async and hybrid lose none and lag instead; latency
/// and worker holding order sync > hybrid > async. (`topologies/comparison.ron` now holds
/// the flow once with three variants; its claims are checked in `comparison.rs`.)
#[test]
fn comparison_shows_isolation_latency_and_capacity_side_by_side() {
    let m = microsim::load(crate::common::root().join("tests/data/side-by-side.ron")).unwrap();
    for seed in [5, 6] {
        let r = m
            .run(&RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            })
            .unwrap();
        let (s, a, h) = (
            r.entry("sync").unwrap(),
            r.entry("async").unwrap(),
            r.entry("hybrid").unwrap(),
        );
        // 30 s of 170 s down, ±5 binomial s.e. (~0.015).
        assert!(
            (s.availability - (1.0 - 30.0 / 170.0)).abs() < 0.015,
            "{}",
            s.availability
        );
        assert_eq!((a.availability, h.availability), (1.0, 1.0));
        assert!(
            s.latency.p99_ms > 1.3 * h.latency.p99_ms,
            "{:?} {:?}",
            s.latency,
            h.latency
        );
        assert!(
            h.latency.p99_ms > 5.0 * a.latency.p99_ms,
            "{:?} {:?}",
            h.latency,
            a.latency
        );
        let util = |name: &str| r.service(name).unwrap().utilization;
        assert!(util("s-checkout") > 1.8 * util("h-checkout"));
        assert!(util("h-checkout") > 5.0 * util("a-checkout"));
        for t in &r.topics {
            for g in &t.groups {
                if g.service.ends_with("email") {
                    // 100/s for 30 s piles up: about 3,000 (Poisson, s.d. ≈ 55).
                    assert!((2_700..3_300).contains(&g.max_lag), "{g:?}");
                    assert!(g.lag < 10, "drained: {g:?}");
                } else {
                    assert!(g.max_lag < 50, "{g:?}");
                }
            }
        }
    }
}

/// Producers waiting for the broker when their replica crashes are gone: their messages
/// are not published when the broker comes back. Every request either published or ended
/// `unavailable` (refused during the crash, or lost in it), never both.
#[test]
fn a_crashed_waiting_producer_publishes_nothing() {
    let text = r#"Topology(
    run: (duration: "30s", seed: 12),
    workload: [(name: "w", entry: "p", arrivals: Poisson(per_second: 100))],
    services: {
        "p": (workers: 1000, steps: [Publish(topic: "t", when_down: Wait())]),
        "c": (workers: 2, work: Exp(mean: "1ms")),
    },
    topics: { "t": (subscribers: [(service: "c")]) },
    faults: [
        (at: "10s", lasts: "5s", fault: BrokerDown),
        (at: "12s", lasts: "1s", fault: Crash(service: "p")),
    ],
)"#;
    let r = model(text).run(&RunOptions::default()).unwrap();
    let e = r.entry("w").unwrap();
    let p = &r.publishes[0];
    // About 200 waiting producers are lost in the crash, and ~100 refused during it.
    assert!(e.outcomes.unavailable > 200, "{:?}", e.outcomes);
    assert_eq!(
        p.published + e.outcomes.unavailable + e.in_flight,
        e.offered
    );
}

/// External producers publishing 100 messages/s straight to a two-partition topic (`publish:`)
/// and sending 50/s to a work queue (`send:`), with a broker fault at 10 s for 5 s and the
/// clients' timeout as given.
fn client_entries(fault: &str, timeout: &str) -> Report {
    let text = format!(
        r#"Topology(
    run: (duration: "30s", seed: 12),
    workload: [
        (name: "devices", publish: "t", arrivals: Poisson(per_second: 100){timeout}),
        (name: "jobs", send: "q", arrivals: Poisson(per_second: 50){timeout}),
    ],
    services: {{
        "c": (replicas: 2, workers: 1, work: Exp(mean: "1ms")),
        "w": (workers: 2, work: Exp(mean: "2ms")),
    }},
    topics: {{ "t": (partitions: 2, subscribers: [(service: "c", consumers: 2)]) }},
    queues: {{ "q": (service: "w", consumers: 2) }},
    faults: [(at: "10s", lasts: "5s", fault: {fault})],
)"#
    );
    model(&text).run(&RunOptions::default()).unwrap()
}

/// Clients that publish to the broker themselves: every message they are told was taken
/// reaches the topic or the queue and is consumed (the partitions share them in turn);
/// the consumers' rates in the shadow are the clients' rates. While the broker is down the
/// clients get `unavailable` at once, as many as the outage's arrivals.
#[test]
fn clients_publish_and_send_straight_to_the_broker() {
    let r = client_entries("BrokerDown", "");
    let (devices, jobs) = (r.entry("devices").unwrap(), r.entry("jobs").unwrap());
    assert_eq!(devices.target, microsim::report::TargetKind::Topic);
    assert_eq!(
        (devices.service.as_str(), jobs.service.as_str()),
        ("t", "q")
    );
    about("devices unavailable", devices.outcomes.unavailable, 500.0);
    about("jobs unavailable", jobs.outcomes.unavailable, 250.0);
    assert_eq!(
        devices.outcomes.unavailable + devices.outcomes.ok,
        devices.offered
    );
    // No warm-up: every message a client got an `ok` for is in the broker.
    let t = &r.topics[0];
    assert_eq!(t.produced, devices.outcomes.ok);
    // Keyless: the two partitions take the messages in turn.
    let per = &t.produced_per_partition;
    assert_eq!(per.iter().sum::<u64>(), t.produced);
    assert!(per[0].abs_diff(per[1]) <= 1, "{per:?}");
    let q = &r.queues[0];
    assert_eq!(q.sent, jobs.outcomes.ok);
    assert!(q.sent - q.acked <= 2, "{q:?}");
    assert!(t.produced - t.groups[0].consumed <= 2, "{t:?}");
    // Answered at once: the clients wait for nothing.
    assert_eq!(devices.latency.max_ms, 0.0);
    let a = &r.analysis;
    let rate = |s: &str| {
        a.services
            .iter()
            .find(|x| x.name == s)
            .unwrap()
            .arrival_rate_per_s
    };
    assert!((rate("c") - 100.0).abs() < 1e-9 && (rate("w") - 50.0).abs() < 1e-9);
    // The broker is down for 5 s of the 30: the clients' availability is the broker's, 1
    // outside the outage and 0 during it (the analysis once ignored the fault and said 1).
    assert!(
        (a.entries[0].availability - 25.0 / 30.0).abs() < 1e-12,
        "{:?}",
        a.entries[0]
    );
    assert_eq!(a.phases.len(), 3);
    assert_eq!(a.phases[1].entries[0].availability, 0.0);
    assert_eq!(a.phases[0].entries[0].availability, 1.0);
    assert!(a.entries[0].required.is_empty());
}

/// A slow broker delays the clients' answers by its latency; a client whose timeout is
/// shorter gives up (`timeout`) at its timeout, and the broker stores the message anyway.
#[test]
fn clients_wait_for_a_slow_broker_or_give_up() {
    let slow = r#"BrokerSlow(add: Const("50ms"))"#;
    let r = client_entries(slow, "");
    let e = r.entry("devices").unwrap();
    assert_eq!(e.outcomes.ok, e.offered - e.in_flight);
    assert_eq!(e.latency.max_ms, 50.0);
    // A sixth of the requests wait 50 ms, the rest no time at all.
    assert!(
        (e.latency.mean_ms - 50.0 / 6.0).abs() < 1.0,
        "{:?}",
        e.latency
    );

    let r = client_entries(slow, r#", timeout: "20ms""#);
    let e = r.entry("devices").unwrap();
    about("devices timed out", e.outcomes.timeout, 500.0);
    assert_eq!(e.latency.max_ms, 20.0);
    assert_eq!(r.topics[0].produced, e.offered - e.in_flight);
}

#[test]
fn an_entry_point_sends_to_exactly_one_known_place() {
    let services = r#"services: { "c": () }, topics: { "t": (subscribers: [(service: "c")]) },
    queues: { "q": (service: "c") }"#;
    for (entry, expect) in [
        (r#"publish: "tt""#, "unknown topic `tt`; did you mean `t`?"),
        (r#"send: "qq""#, "unknown queue `qq`; did you mean `q`?"),
        (
            r#"entry: "c", send: "q""#,
            "give only one of `entry`, `publish` and `send`",
        ),
        ("", "an entry point needs somewhere to send its requests"),
    ] {
        let text = format!(
            r#"Topology(
    workload: [(name: "w", {entry}, arrivals: Poisson(per_second: 1))],
    {services},
)"#
        )
        .replace("(name: \"w\", ,", "(name: \"w\",");
        let err = microsim::parse(&text, "t.ron").unwrap_err().to_string();
        assert!(err.contains(expect), "{entry}: {err}");
        assert!(err.contains("workload[w]"), "{err}");
    }
}

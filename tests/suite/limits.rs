//! Extreme but valid models cost what they report: memory bounded by what a run shows, not
//! by services × buckets or by a histogram per service sized for millions of samples.
//! (Breakers with huge windows: `cli.rs`; the analytic shadow with billions of servers:
//! `queues.rs`.)

use crate::common::model;
use microsim::model::{MAX_BUCKETS, MAX_SERIES_VALUES};
use microsim::report::Series;
use microsim::RunOptions;

/// A chain of `n` services, each doing `work` and calling the next.
fn chain(n: usize, run: &str, arrivals: &str, work: &str) -> String {
    let services: Vec<String> = (0..n)
        .map(|i| {
            let next = if i + 1 < n {
                format!(r#", steps: [Call(to: "s{}")]"#, i + 1)
            } else {
                String::new()
            };
            format!(r#"        "s{i}": (work: {work}{next}),"#)
        })
        .collect();
    format!(
        "Topology(\n    run: ({run}),\n    workload: [(name: \"e\", entry: \"s0\", arrivals: {arrivals})],\n    services: {{\n{}\n    }},\n)\n",
        services.join("\n")
    )
}

/// A 5,000-service chain, 19 requests through all of it (5 ms each, 10 ms apart): each service and call step once
/// had an HDR histogram sized for its latency range from the first sample (~57 kB here,
/// ~570 MB in all), and the run aborted under a 300 MB address-space limit. Histograms now
/// start as a list of samples (`metrics::LatencyHistogram`): the run takes tens of MB.
#[test]
#[cfg(target_os = "linux")]
fn a_5000_service_chain_runs_in_little_memory() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("limits");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("chain5000.ron");
    let text = chain(
        5_000,
        r#"duration: "200ms""#,
        "Constant(per_second: 100)",
        r#"Const("1us")"#,
    );
    std::fs::write(&file, &text).unwrap();
    let o = std::process::Command::new("sh")
        .args(["-c", r#"ulimit -v 300000 && exec "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_microsim"))
        .args(["run", file.to_str().unwrap(), "--json"])
        .output()
        .expect("sh runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = microsim::Report::from_json(&String::from_utf8(o.stdout).unwrap()).unwrap();
    // 19 requests answered (the 20th arrives at the end), each seen by every service.
    assert_eq!(report.entries[0].outcomes.ok, 19);
    assert!(report.services.iter().all(|s| s.latency.count == 19));
    // The deepest service works 1 µs; the entry sees 5,000 of them.
    let top = report.services[0].latency.p50_ms;
    assert!((top - 5.0).abs() < 0.01, "{top} ms");
}

/// Values a report's time series hold, over all of them.
fn series_values(s: &Series) -> usize {
    let entries: usize = s
        .entries
        .iter()
        .map(|e| {
            e.ok.len()
                + e.error.len()
                + e.timeout.len()
                + e.rejected.len()
                + e.circuit_open.len()
                + e.unavailable.len()
                + e.degraded.len()
                + e.p99_ms.len()
        })
        .sum();
    let services: usize = s
        .services
        .iter()
        .map(|v| {
            v.queue.len()
                + v.busy.len()
                + v.occupancy.iter().map(|o| o.workers.len()).sum::<usize>()
        })
        .sum();
    let calls: usize = s
        .calls
        .iter()
        .map(|c| c.calls.len() + c.attempts.len())
        .sum();
    let topics: usize = s
        .topics
        .iter()
        .map(|t| t.lag.len() + t.time_lag_s.len())
        .sum();
    let queues: usize = s.queues.iter().map(|q| q.depth.len() + q.age_s.len()).sum();
    entries + services + calls + topics + queues
}

/// A model whose time series, at the bucket it asks for, would hold about 3·10⁷ values
/// (about 3,200 series of 400 services, × 10,000 buckets of 100 µs: 250 MB, and a report
/// of a gigabyte; a 5,000-service chain at 1 ms buckets over 10 s took 4.9 GB): the bucket
/// is widened so that the series hold at most `MAX_SERIES_VALUES`. A model of a few series
/// keeps its bucket, within the cap on buckets.
#[test]
fn time_series_hold_at_most_their_budget_of_values() {
    let mut text = chain(
        400,
        r#"duration: "1s", bucket: "100us""#,
        "Constant(per_second: 20)",
        r#"Const("10us")"#,
    );
    // A topic with two groups and a work queue, so that every kind of series counts.
    text = text.replacen(
        r#""s399": (work: Const("10us")),"#,
        r#""s399": (work: Const("10us"), steps: [Publish(topic: "t"), Send(queue: "q")]),
        "c1": (), "c2": (), "c3": (),"#,
        1,
    );
    text = text.replacen(
        "\n)\n",
        r#"
    topics: { "t": (subscribers: [(service: "c1"), (service: "c2")]) },
    queues: { "q": (service: "c3") },
)
"#,
        1,
    );
    let r = model(&text).run(&RunOptions::default()).unwrap();
    let values = series_values(&r.series);
    let buckets = r.series.services[0].busy.len();
    assert!(values as u64 <= MAX_SERIES_VALUES, "{values} values");
    // Every series counts: the budget binds, so one more bucket would exceed it.
    assert!(
        (values + values / buckets) as u64 > MAX_SERIES_VALUES,
        "{values} values in {buckets} buckets"
    );
    assert!(
        buckets < 10_000 && r.series.bucket_s > 100e-6,
        "{buckets} buckets"
    );
    assert!((buckets as f64 * r.series.bucket_s - 1.0).abs() < r.series.bucket_s);
    // Entries, the broker's groups and queues are all in the series.
    assert_eq!(r.series.topics.len(), 2);
    assert_eq!(r.series.queues.len(), 1);

    // Three services: the 100,000-bucket cap applies, not the budget of values.
    let r = model(&chain(
        3,
        r#"duration: "1s", bucket: "1us""#,
        "Constant(per_second: 20)",
        r#"Const("10us")"#,
    ))
    .run(&RunOptions::default())
    .unwrap();
    assert_eq!(r.series.services[0].busy.len() as u64, MAX_BUCKETS);
    // And an ordinary one keeps the bucket it asked for.
    let r = model(&chain(
        3,
        r#"duration: "10s", bucket: "1s""#,
        "Constant(per_second: 20)",
        r#"Const("10us")"#,
    ))
    .run(&RunOptions::default())
    .unwrap();
    assert_eq!((r.series.bucket_s, r.series.entries[0].ok.len()), (1.0, 10));
}

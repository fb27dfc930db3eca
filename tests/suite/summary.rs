//! The terminal summary `microsim run` prints: every figure true and labelled, every line of
//! every bundled topology within 100 columns, and the timeline's slices read from the
//! engine's own per-slice latency.

use crate::common::{bundled, one_service, opts, root};
use microsim::engine::run_traced;
use microsim::render::{render_summary, render_summary_with, SummaryOptions};
use microsim::{Report, RunOptions};

/// The exact 99th percentile of `latencies` \[ns\] as an HDR histogram reads it: the
/// ⌈0.99·n⌉-th smallest.
fn exact_p99(latencies: &mut [u64]) -> u64 {
    latencies.sort_unstable();
    let k = ((0.99 * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
    latencies[k - 1]
}

#[test]
fn each_slice_reports_its_own_p99_not_its_worst_buckets() {
    // M/M/1 at ρ = 0.8: 800 answers a second, 2 minutes, slices of 10 s.
    let model = one_service(800.0, r#"workers: 1, work: Exp(mean: "1ms")"#);
    let (report, trace) = run_traced(&model, &opts(120.0, 0.0)).unwrap();
    let slices = &report.series.entries[0].slices;
    assert_eq!(slices.len(), 12, "{slices:?}");
    let mut worst_bucket_above = 0;
    for (i, s) in slices.iter().enumerate() {
        assert_eq!(s.from_s, i as f64 * 10.0);
        assert_eq!(s.to_s, (i + 1) as f64 * 10.0);
        let (from, to) = ((s.from_s * 1e9) as u64, (s.to_s * 1e9) as u64);
        let mut latencies: Vec<u64> = trace
            .iter()
            .filter(|t| (from..to).contains(&t.time.as_nanos()))
            .map(|t| t.latency.0)
            .collect();
        assert_eq!(s.answered, latencies.len() as u64, "slice {i}");
        let mean = latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1e6;
        let reported_mean = s.mean_ms.expect("answers, so a mean");
        assert!(
            (reported_mean - mean).abs() <= 1e-9 * mean,
            "slice {i}: mean {reported_mean} vs {mean}"
        );
        // The histogram has 2 significant digits: its p99 is the top of the bucket of the
        // exact one, within 1 % above it.
        let exact = exact_p99(&mut latencies) as f64 / 1e6;
        let p99 = s.p99_ms.expect("answers, so a p99");
        assert!(
            p99 >= exact && p99 <= exact * 1.01,
            "slice {i}: p99 {p99} vs exact {exact}"
        );
        // What the timeline used to show: the worst 1 s bucket's p99 in the slice.
        let worst = report.series.entries[0].p99_ms[i * 10..(i + 1) * 10]
            .iter()
            .flatten()
            .fold(0.0_f64, |m, &x| m.max(x));
        if worst > p99 * 1.1 {
            worst_bucket_above += 1;
        }
    }
    // The two differ (the worst bucket sits far above the slice's own p99) in most slices:
    // the test would fail if the slices still showed the worst bucket.
    assert!(worst_bucket_above >= 6, "{worst_bucket_above} of 12");
}

#[test]
fn a_drained_run_has_one_more_slice_for_the_drain() {
    let model = one_service(800.0, r#"workers: 1, work: Exp(mean: "1ms")"#);
    let report = model
        .run(&RunOptions {
            drain: true,
            ..opts(30.0, 0.0)
        })
        .unwrap();
    let slices = &report.series.entries[0].slices;
    // 30 s in slices of 3 s, then the drain.
    assert_eq!(slices.len(), 11, "{slices:?}");
    assert_eq!(slices[9].to_s, 30.0);
    assert_eq!(slices[10].from_s, 30.0);
    assert_eq!(slices[10].to_s, report.duration_s);
    let answered: u64 = slices.iter().map(|s| s.answered).sum();
    let e = &report.series.entries[0];
    let in_buckets: u64 = e.ok.iter().chain(&e.error).chain(&e.timeout).sum();
    assert_eq!(answered, in_buckets);
}

/// The summary of bundled topology `name` run as the file says, as `microsim run` prints it.
fn bundled_summary(name: &str) -> (Report, String) {
    summary_of(&root().join("topologies").join(format!("{name}.ron")))
}

/// The report and summary of the file at `path`, run as it says.
fn summary_of(path: &std::path::Path) -> (Report, String) {
    let model = microsim::load(path).unwrap();
    let report = model.run(&RunOptions::default()).unwrap();
    let text = render_summary(&report);
    (report, text)
}

/// `tests/data/side-by-side.ron`: a large, varied report in one run (15 services, 3 entry
/// points, 6 calls, 2 topics, lagging and keeping-up groups).
fn side_by_side() -> (Report, String) {
    summary_of(&root().join("tests/data/side-by-side.ron"))
}

#[test]
fn every_line_of_every_bundled_summary_fits_100_columns() {
    for path in bundled() {
        let model = microsim::load(&path).unwrap();
        let report = model.run(&RunOptions::default()).unwrap();
        let text = render_summary(&report);
        for line in text.lines() {
            assert!(
                line.chars().count() <= 100,
                "{}: {} columns:\n{line}",
                path.display(),
                line.chars().count()
            );
        }
        // --wide shows everything the default does: every word and number of it (but the
        // count of rows left out) is in the wide one too.
        let wide = render_summary_with(&report, &SummaryOptions { wide: true });
        let words: std::collections::HashSet<&str> = wide.split_whitespace().collect();
        for line in text.lines().filter(|l| !l.contains("left out")) {
            for word in line.split_whitespace() {
                assert!(
                    words.contains(word),
                    "{}: {word:?} of {line:?} not in the wide summary",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_mm1_summary_shows_the_mean_and_slices_around_the_runs_p99() {
    let (report, text) = bundled_summary("mm1");
    let e = &report.entries[0];
    // W = 1/(μ − λ) = 5 ms: the mean is printed.
    let mean = format!("{:.2}", e.latency.mean_ms);
    assert!(
        (e.latency.mean_ms - 5.0).abs() < 0.25,
        "{}",
        e.latency.mean_ms
    );
    let entry_rows: Vec<&str> = text.lines().filter(|l| l.contains("clients")).collect();
    assert!(
        entry_rows.iter().any(|l| l.contains(&mean)),
        "no mean {mean} in:\n{text}"
    );
    // The timeline's p99 row: the slices' own p99s straddle the run's (23.1 ms), instead of
    // all sitting above it.
    let timeline = &text[text.find("Timeline").expect("a timeline")..];
    let row = timeline
        .lines()
        .find(|l| l.contains("p99 ms"))
        .unwrap_or_else(|| panic!("no p99 row in:\n{text}"));
    let values: Vec<f64> = row[row.find("p99 ms").unwrap() + 6..]
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(values.len() >= 6, "{row}");
    let run = e.latency.p99_ms;
    assert!(values.iter().any(|&v| v < run), "{row} vs {run}");
    assert!(values.iter().any(|&v| v > run), "{row} vs {run}");
}

#[test]
fn a_run_ending_with_many_requests_unanswered_says_so() {
    // ρ = 2 with room to queue everything: half the requests are still waiting at the end.
    let model = one_service(
        2000.0,
        r#"workers: 1, queue: 1000000, work: Exp(mean: "1ms")"#,
    );
    let report = model.run(&opts(20.0, 0.0)).unwrap();
    let e = &report.entries[0];
    assert!(
        e.in_flight * 100 > e.offered * 30,
        "{} of {}",
        e.in_flight,
        e.offered
    );
    let text = render_summary(&report);
    let warning = text
        .lines()
        .find(|l| l.contains("warning: main:"))
        .unwrap_or_else(|| panic!("no in-flight warning in:\n{text}"));
    let in_flight = e.in_flight.to_string();
    let grouped: String = {
        // 12,345 as the summary writes it.
        let s = in_flight.as_str();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert!(warning.contains(&grouped), "{warning}");
    assert!(text.contains("--drain"), "{text}");

    // The same model drained: nothing left in flight, no warning.
    let drained = model
        .run(&RunOptions {
            drain: true,
            ..opts(5.0, 0.0)
        })
        .unwrap();
    assert_eq!(drained.entries[0].in_flight, 0);
    assert!(!render_summary(&drained).contains("unanswered"));
    // Below 1 % of offered, no warning either (checkout ends with 6 of 49,590 in flight).
    let (checkout, text) = bundled_summary("checkout");
    assert!(checkout.entries[0].in_flight > 0);
    assert!(!text.contains("unanswered"), "{text}");
}

#[test]
fn every_table_says_which_window_it_measures() {
    let (_, text) = side_by_side();
    let titles: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains('('))
        .skip(1)
        .collect();
    for title in &titles {
        let labelled = title.contains("after the warm-up")
            || title.contains("whole run")
            || title.starts_with("Faults");
        assert!(labelled, "no window in {title:?}");
    }
    for start in [
        "Entry points",
        "Services",
        "Sync calls",
        "Topics",
        "Timeline",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(start)),
            "no {start} table in {titles:?}"
        );
    }
    // Topics count the warm-up, entry points do not: both say so.
    let topics = titles.iter().find(|t| t.starts_with("Topics")).unwrap();
    assert!(topics.contains("warm-up included"), "{topics}");
}

#[test]
fn call_rows_add_up_and_zero_rows_are_counted_not_shown() {
    let (report, text) = side_by_side();
    // The call table: calls = ok + failures + in-flight in every row.
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("call ") && l.contains("in-flight"))
        .unwrap_or_else(|| panic!("no call table with in-flight in:\n{text}"));
    let heads: Vec<&str> = header
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for c in &report.calls {
        let key = format!("{} → {}", c.from, c.to);
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(&key) && l.contains(&c.calls.to_string()))
            .unwrap_or_else(|| panic!("no row for {key}"));
        let numbers: Vec<u64> = row[row.find(&key).unwrap() + key.len()..]
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(numbers.len() + 1, heads.len(), "{header}\n{row}");
        assert_eq!(numbers[0], c.calls);
        let parts: u64 = numbers[1..].iter().sum();
        assert_eq!(
            parts, c.calls,
            "{row}: the columns after calls add up to calls"
        );
    }
    // The timeline: no service queue is ever above 0.05, so all 15 rows are left out and
    // counted.
    assert!(!text.contains("queue (mean)"), "{text}");
    assert!(text.contains("15 rows of zeros left out"), "{text}");
}

#[test]
fn lag_and_faults_are_in_the_summary() {
    let (report, text) = bundled_summary("lag");
    let g = &report.topics[0].groups[0];
    // The fault, with its letter, and the timeline marking the slices it covers.
    assert!(
        text.contains("A  1m → 90s (30s)  crash welcome-mail"),
        "{text}"
    );
    let faults = text
        .lines()
        .find(|l| l.trim_start().starts_with("faults"))
        .unwrap_or_else(|| panic!("no fault row in:\n{text}"));
    assert_eq!(faults.matches('A').count(), 2, "{faults}");
    // The group's lag over time: its peak in the timeline is the report's max lag.
    let lag = text
        .lines()
        .find(|l| l.contains("lag (max)"))
        .unwrap_or_else(|| panic!("no lag row in:\n{text}"));
    assert!(
        lag.contains(&g.max_lag.to_string()),
        "{lag} vs {}",
        g.max_lag
    );
    // How fast it drained, in the topics table.
    let drained = g.drained_in_s.expect("lag.ron drains");
    assert!(
        text.contains(&format!("{} s", drained)),
        "no drain time {drained} in:\n{text}"
    );
    assert!(text.contains("drained in"), "{text}");
}

#[test]
fn labels_say_what_the_numbers_are() {
    let (_, text) = side_by_side();
    // Availability is a percentage everywhere; "analytic" says of what.
    assert!(
        !text.contains("avail  ") || text.contains("avail %"),
        "{text}"
    );
    for label in [
        "avail %",
        "analytic avail %",
        "util ρ",
        "analytic ρ",
        "up time %",
    ] {
        assert!(text.contains(label), "no {label:?} in:\n{text}");
    }
    assert!(!text.contains("± s.e."), "{text}");
    assert!(text.contains("one run: no interval; run with --reps N for a confidence interval"));
    let (_, text) = bundled_summary("retry-storm");
    assert!(text.contains("orphan worker-s"), "{text}");
    assert!(!text.contains("orphan s "), "{text}");
    // The timeline's slices in one unit, exact.
    let (_, text) = bundled_summary("checkout");
    let from = text.lines().find(|l| l.contains("from, ")).unwrap();
    assert_eq!(
        from.split_whitespace().collect::<Vec<_>>(),
        [
            "from,", "s", "0", "20", "40", "60", "80", "100", "120", "140", "160", "180", "200",
            "220"
        ]
    );
    let model = one_service(100.0, r#"workers: 1, work: Exp(mean: "1ms")"#);
    let text = render_summary(&model.run(&opts(30.0, 0.0)).unwrap());
    let from = text.lines().find(|l| l.contains("from, ")).unwrap();
    assert_eq!(
        from.split_whitespace().collect::<Vec<_>>(),
        ["from,", "s", "0", "3", "6", "9", "12", "15", "18", "21", "24", "27"]
    );
    let model = one_service(100.0, r#"workers: 1, work: Exp(mean: "1ms")"#);
    let text = render_summary(&model.run(&opts(600.0, 0.0)).unwrap());
    let from = text.lines().find(|l| l.contains("from, ")).unwrap();
    assert_eq!(
        from.split_whitespace().collect::<Vec<_>>(),
        ["from,", "min", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]
    );
}

#[test]
fn check_counts_in_words_and_lists_what_a_request_needs() {
    let model = microsim::load(root().join("topologies/checkout.ron")).unwrap();
    let text = microsim::render::render_analysis(&model, &model.analyze());
    assert!(text.contains("· 1 entry point\n"), "{text}");
    assert!(!text.contains("1 entry points"), "{text}");
    assert!(text.contains("needs gateway, inventory"), "{text}");
}

#[test]
fn a_drained_runs_timeline_ends_with_the_drain() {
    let model = microsim::load(root().join("topologies/checkout.ron")).unwrap();
    let report = model
        .run(&RunOptions {
            drain: true,
            ..Default::default()
        })
        .unwrap();
    assert!(report.duration_s > 240.0, "{}", report.duration_s);
    let text = render_summary(&report);
    let from = text.lines().find(|l| l.contains("from, ")).unwrap();
    let words: Vec<&str> = from.split_whitespace().collect();
    assert_eq!(words.len(), 2 + 13, "{from}");
    assert_eq!(words[2..5], ["0", "20", "40"], "{from}");
    assert_eq!(words.last(), Some(&"drain"), "{from}");
    // The slices' own latency, not the fallback for reports without slices.
    assert!(!text.contains("worst 1-bucket"), "{text}");
    assert!(text.contains("shoppers p99 ms"), "{text}");
}

#[test]
fn a_report_without_slices_labels_the_worst_bucket_p99_as_such() {
    // A report written before the engine kept slices: the timeline can only show the worst
    // bucket's p99 in each slice, and says so.
    let (mut report, _) = bundled_summary("checkout");
    for e in &mut report.series.entries {
        e.slices.clear();
    }
    let text = render_summary(&report);
    assert!(text.contains("worst 1-bucket p99 ms"), "{text}");
    assert!(!text.contains("shoppers p99 ms"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    let from = text.lines().find(|l| l.contains("from, ")).unwrap();
    assert_eq!(from.split_whitespace().nth(3), Some("20"), "{from}");
}

#[test]
fn groups_that_keep_up_have_nothing_to_drain() {
    // side-by-side.ron: four groups keep up (their oldest message waits well under a second),
    // the two e-mail groups build a backlog during the outage.
    let (report, text) = side_by_side();
    for t in &report.topics {
        for g in &t.groups {
            let key = format!("{} → {}", t.name, g.service);
            // The row of the block with the lag columns: it has the max lag s.
            let age = format!("{:.3}", g.max_time_lag_s);
            let row = text
                .lines()
                .find(|l| l.trim_start().starts_with(&key) && l.contains(&age))
                .unwrap_or_else(|| panic!("no lag row for {key} in:\n{text}"));
            if g.max_time_lag_s < 1.0 {
                assert!(!row.contains(" s "), "{row}");
                let after = &row[row.find(&age).unwrap() + age.len()..];
                assert_eq!(after.split_whitespace().next(), Some("-"), "{row}");
            } else {
                let d = g.drained_in_s.expect("drained");
                assert!(row.contains(&format!("{d} s")), "{row}");
            }
        }
    }
}

#[test]
fn entry_points_whose_answers_take_no_time_have_no_latency_rows() {
    // m3.ron: twenty entry points send to work queues, acknowledged at once: 0 ms answers.
    let (report, text) = bundled_summary("m3");
    assert!(report.entries.iter().all(|e| e.latency.max_ms == 0.0));
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("entry ") && l.contains("mean ms")),
        "{text}"
    );
    assert!(
        text.contains("(latency: 20 entry points whose answers all took 0 ms left out"),
        "{text}"
    );
    let wide = render_summary_with(&report, &SummaryOptions { wide: true });
    let row = wide
        .lines()
        .find(|l| l.trim_start().starts_with("clients-q1 "))
        .unwrap();
    assert!(row.trim_end().ends_with("0.00"), "{row}");
}

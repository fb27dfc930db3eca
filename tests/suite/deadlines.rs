//! Deadline propagation and cancellation (topologies/deadlines.ron): two identical chains
//! under the same spike, one with `deadlines: (propagate: true, cancel: true)` on its call.

use microsim::{Report, RunOptions};
use std::path::Path;

fn run(seed: u64) -> Report {
    let model =
        microsim::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/deadlines.ron"))
            .expect("deadlines.ron loads");
    model
        .run(&RunOptions {
            seed: Some(seed),
            ..Default::default()
        })
        .expect("runs")
}

/// With deadlines, the back end wastes far less time on requests nobody waits for, and the
/// entry point stays far more available. Across seeds the availabilities are ~0.53 vs ~0.87
/// with standard errors of ~0.003 (36,000 requests each), so a margin of 0.15 is ~50 s.e.
/// and leaves room for seed-to-seed variation of the spike's effect; orphaned work differs
/// by a factor of ~5, tested at 2.
#[test]
fn deadlines_cut_orphaned_work_and_keep_availability() {
    for seed in [11, 12, 13] {
        let r = run(seed);
        let plain = r.entry("plain").unwrap();
        let dl = r.entry("with-deadlines").unwrap();
        assert!(
            dl.availability > plain.availability + 0.15,
            "seed {seed}: availability with deadlines {} vs plain {}",
            dl.availability,
            plain.availability
        );
        let back_plain = r.service("back-plain").unwrap();
        let back_dl = r.service("back-dl").unwrap();
        assert!(
            back_dl.orphaned_work_s * 2.0 < back_plain.orphaned_work_s,
            "seed {seed}: orphaned work {} s with deadlines vs {} s without",
            back_dl.orphaned_work_s,
            back_plain.orphaned_work_s
        );
        // The mechanisms did the work: queued requests were cancelled or dropped, and the
        // plain chain never does either.
        assert!(back_dl.cancelled + back_dl.expired > 0, "seed {seed}");
        assert_eq!(back_plain.cancelled + back_plain.expired, 0, "seed {seed}");
        // Cancelled requests end at the service as timeouts and never reach a worker.
        assert!(back_dl.outcomes.timeout >= back_dl.cancelled + back_dl.expired);
    }
}

/// A propagated deadline bounds the callee's queueing: no request starts after its caller
/// gave up, so the back end's latency (arrival to answer) of started requests stays near
/// the caller's timeout plus one service time, while the plain back end's grows to seconds.
#[test]
fn propagated_deadlines_bound_the_callees_latency() {
    let r = run(11);
    let back_plain = r.service("back-plain").unwrap();
    let back_dl = r.service("back-dl").unwrap();
    // A request starts before its 300 ms deadline and then works Exp(18 ms): its time at
    // the back end exceeds 300 ms + 18 ms·ln(1000) ≈ 425 ms with probability about 1e-3
    // per request; the maximum over 36,000 requests stays within 300 ms + 18 ms·ln(36000·
    // 1000) ≈ 610 ms with probability 0.999.
    assert!(
        back_dl.latency.max_ms < 610.0,
        "max {} ms",
        back_dl.latency.max_ms
    );
    assert!(
        back_plain.latency.max_ms > 2_000.0,
        "max {} ms",
        back_plain.latency.max_ms
    );
}

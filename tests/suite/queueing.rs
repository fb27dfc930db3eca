//! Queueing theory: single-service models against the closed forms of docs/semantics.md
//! (*Queueing formulas*), as
//! implemented (and unit-tested against the test vectors) in `microsim::analysis::queueing`.
//!
//! Time is scaled so that the mean service time is 1 ms: λ = 0.8 in the tables becomes
//! 800 requests/s, and a mean sojourn of 5 (service times) is 5 ms.
//!
//! Tolerances: 10 independent replications (`common::SEEDS`), each with a 1 s warm-up
//! (≥ 10 relaxation times of every model here, the slowest being M/M/1 at ρ = 0.8 with
//! 1/(μ(1 − √ρ)²) ≈ 90 ms), compared to theory within `K_SE` = 5 across-replication standard
//! errors plus a bias allowance of 0.1 % of the expected value for means (left-over
//! transient, and the few requests still in flight at the end that are not counted) and
//! 0.2 % for percentiles (HDR histograms with 3 significant digits report the bucket's upper
//! edge, ≤ 0.1 % high). See `common.rs`.

use crate::common::{assert_exact, assert_matches, one_service, opts, replicate, SEEDS};
use microsim::analysis::queueing::{erlang_b, mg1_wq, mm1_sojourn_tail, mmc, mmck};
use microsim::run_traced;
use microsim::Report;
use rayon::prelude::*;

/// Relative bias allowance for means (see the module docs).
const MEAN_BIAS: f64 = 1e-3;
/// Relative bias allowance for percentiles read from the HDR histogram.
const PCT_BIAS: f64 = 2e-3;
/// The same for the percentiles of the wait before a worker, whose histogram keeps 2
/// significant digits: the bucket's upper edge is at most 1 % high.
const WAIT_PCT_BIAS: f64 = 1e-2;
/// Warm-up of every run [s].
const WARMUP_S: f64 = 1.0;

/// Measured seconds of a run.
fn measured_s(r: &Report) -> f64 {
    r.duration_s - r.warmup_s
}

/// Per-replication values of `f`.
fn each(reports: &[Report], f: impl Fn(&Report) -> f64) -> Vec<f64> {
    reports.iter().map(f).collect()
}

/// M/M/1 at ρ = 0.8: mean sojourn 5 × the mean service time, L = 4, and the exponential
/// sojourn-time distribution P(T > t) = e^{−(μ−λ)t}, read from per-request traces and from the
/// report's percentiles.
#[test]
fn mm1_mean_sojourn_and_tail() {
    let (lambda, mu) = (0.8, 1.0); // per ms
    let m = mmc(1, lambda, mu).unwrap();
    assert_exact("theory W", m.w, 5.0);
    let model = one_service(800.0, r#"workers: 1, work: Exp(mean: "1ms")"#);
    // 10 × 250 s: 2.0 M departures in all; the asymptotic relative variance of the mean
    // sojourn at ρ = 0.8 is ≈ 90/n, so a relative s.e. ≈ 0.7 %.
    let options = opts(251.0, WARMUP_S);
    // (t [ms], power bound): the tail's relative s.e. grows as the probability shrinks.
    let tail_at_ms = [(5.0, 0.05), (10.0, 0.10)];
    let (reports, tails): (Vec<Report>, Vec<Vec<f64>>) = SEEDS
        .par_iter()
        .map(|&seed| {
            let o = microsim::RunOptions {
                seed: Some(seed),
                ..options.clone()
            };
            let (report, trace) = run_traced(&model, &o).unwrap();
            // Requests that arrived after the warm-up, as in the report.
            let warm_ns = (report.warmup_s * 1e9).round() as u64;
            let lat: Vec<u64> = trace
                .iter()
                .filter(|t| t.time.as_nanos() - t.latency.as_nanos() >= warm_ns)
                .map(|t| t.latency.as_nanos())
                .collect();
            assert_eq!(lat.len() as u64, report.entries[0].outcomes.total());
            let tails = tail_at_ms
                .iter()
                .map(|&(t, _)| {
                    let t_ns = (t * 1e6) as u64;
                    lat.iter().filter(|&&l| l > t_ns).count() as f64 / lat.len() as f64
                })
                .collect();
            (report, tails)
        })
        .unzip();

    let w = each(&reports, |r| r.entries[0].latency.mean_ms);
    assert_matches("M/M/1 W [ms]", &w, m.w, MEAN_BIAS * m.w, 0.05);
    let l = each(&reports, |r| r.services[0].mean_in_system);
    assert_matches("M/M/1 L", &l, m.l, MEAN_BIAS * m.l, 0.05);
    let rho = each(&reports, |r| r.services[0].utilization);
    assert_matches("M/M/1 ρ", &rho, 0.8, MEAN_BIAS * 0.8, 0.01);

    for (i, &(t, max_rel)) in tail_at_ms.iter().enumerate() {
        let expected = mm1_sojourn_tail(lambda, mu, t);
        let p: Vec<f64> = tails.iter().map(|run| run[i]).collect();
        assert_matches(&format!("M/M/1 P(T > {t} ms)"), &p, expected, 0.0, max_rel);
    }
    // Percentiles: P(T > t_q) = 1 − q at t_q = −ln(1 − q)/(μ − λ).
    // (q, percentile, power bound): higher percentiles rest on fewer samples.
    for (q, get, max_rel) in [
        (
            0.5,
            (|r: &Report| r.entries[0].latency.p50_ms) as fn(&Report) -> f64,
            0.05,
        ),
        (0.9, |r: &Report| r.entries[0].latency.p90_ms, 0.08),
        (0.99, |r: &Report| r.entries[0].latency.p99_ms, 0.10),
    ] {
        let t_q = -(1.0_f64 - q).ln() / (mu - lambda);
        assert_exact("tail at t_q", mm1_sojourn_tail(lambda, mu, t_q), 1.0 - q);
        let v = each(&reports, get);
        assert_matches(
            &format!("M/M/1 p{q} [ms]"),
            &v,
            t_q,
            PCT_BIAS * t_q,
            max_rel,
        );
    }
}

/// Checks an M/M/c service with mean service 1 ms against Erlang C: mean sojourn W, mean
/// number waiting Lq, and the mean wait Wq = Lq/λ (Little's law on the waiting room).
/// `max_rel` bounds the tolerance of W; the waiting-room measures, a small part of W and far
/// burstier, get twice that.
fn check_mmc(c: u32, lambda: f64, duration_s: f64, max_rel: f64) {
    let m = mmc(c, lambda, 1.0).unwrap();
    let model = one_service(
        lambda * 1000.0,
        &format!(r#"workers: {c}, work: Exp(mean: "1ms")"#),
    );
    let reports = replicate(&model, &opts(duration_s, WARMUP_S));
    // The analytic shadow predicts the same (its queue model is this formula).
    let qm = reports[0].analysis.services[0].queue_model.clone().unwrap();
    assert_eq!(qm.model, "M/M/c");
    assert_exact("analysis W", qm.mean_sojourn_ms, m.w);
    assert_exact("analysis Wq", qm.mean_wait_ms, m.wq);

    let name = format!("M/M/{c} (λ = {lambda})");
    let w = each(&reports, |r| r.entries[0].latency.mean_ms);
    assert_matches(&format!("{name} W [ms]"), &w, m.w, MEAN_BIAS * m.w, max_rel);
    let lq = each(&reports, |r| r.services[0].mean_queue);
    assert_matches(
        &format!("{name} Lq"),
        &lq,
        m.lq,
        MEAN_BIAS * m.lq,
        2.0 * max_rel,
    );
    let wq = each(&reports, |r| {
        let lambda_hat = r.services[0].arrivals as f64 / (measured_s(r) * 1000.0);
        r.services[0].mean_queue / lambda_hat
    });
    assert_matches(
        &format!("{name} Wq [ms]"),
        &wq,
        m.wq,
        MEAN_BIAS * m.wq,
        2.0 * max_rel,
    );
}

/// M/M/2 at λ = 1.5, μ = 1: C = 0.642857, Wq = 1.285714, W = 2.285714.
#[test]
fn mmc_two_servers_erlang_c() {
    assert_exact(
        "theory Wq",
        mmc(2, 1.5, 1.0).unwrap().wq,
        1.285_714_285_714_285_7,
    );
    check_mmc(2, 1.5, 101.0, 0.05);
}

/// M/M/10 at λ = 8, μ = 1: C = 0.409180, Wq = 0.204590, W = 1.204590.
#[test]
fn mmc_ten_servers_erlang_c() {
    check_mmc(10, 8.0, 31.0, 0.05);
}

/// M/M/2/4 (two workers, two places in the queue) at λ = 1.5, μ = 1: blocking P_K = 0.124043,
/// L = 1.727412, W of admitted requests = 1.314685.
#[test]
fn mmck_blocking() {
    let m = mmck(2, 4, 1.5, 1.0);
    assert!((m.p_block - 0.124043).abs() < 1e-6);
    let model = one_service(1500.0, r#"workers: 2, queue: 2, work: Exp(mean: "1ms")"#);
    let reports = replicate(&model, &opts(61.0, WARMUP_S));
    let qm = reports[0].analysis.services[0].queue_model.clone().unwrap();
    assert_eq!(qm.model, "M/M/c/K");
    assert_exact("analysis p_reject", qm.p_reject, m.p_block);

    // By PASTA the fraction of arrivals that find the system full is P_K.
    let p = each(&reports, |r| {
        let s = &r.services[0];
        s.rejected as f64 / s.arrivals as f64
    });
    assert_matches("M/M/2/4 P_K", &p, m.p_block, 0.0, 0.05);
    let l = each(&reports, |r| r.services[0].mean_in_system);
    assert_matches("M/M/2/4 L", &l, m.l, MEAN_BIAS * m.l, 0.05);
    // The latency histogram holds admitted requests only: W is over admitted requests.
    let w = each(&reports, |r| {
        let s = &r.services[0];
        // All admitted arrivals but the (at most K = 4) still inside at the end.
        assert!(s.arrivals - s.rejected - s.latency.count <= 4);
        s.latency.mean_ms
    });
    assert_matches("M/M/2/4 W [ms]", &w, m.w, MEAN_BIAS * m.w, 0.05);
    // Every entry request that was rejected is reported as such to the client.
    for r in &reports {
        assert_eq!(r.entries[0].outcomes.rejected, r.services[0].rejected);
    }
}

/// Erlang B (M/G/5/5, `queue: 0`) at a = 3: blocking 0.110054 and carried load a(1 − B),
/// for exponential and for constant service times (Erlang B is insensitive to the service
/// distribution).
#[test]
fn erlang_b_loss_system() {
    let b = erlang_b(5, 3.0);
    assert!((b - 0.110054).abs() < 1e-6);
    for work in [r#"Exp(mean: "1ms")"#, r#"Const("1ms")"#] {
        let model = one_service(3000.0, &format!("workers: 5, queue: 0, work: {work}"));
        let reports = replicate(&model, &opts(31.0, WARMUP_S));
        let p = each(&reports, |r| {
            let s = &r.services[0];
            s.rejected as f64 / s.arrivals as f64
        });
        assert_matches(&format!("Erlang B, {work}"), &p, b, 0.0, 0.05);
        let carried = 3.0 * (1.0 - b);
        let busy = each(&reports, |r| r.services[0].mean_busy_workers);
        assert_matches(
            &format!("carried load, {work}"),
            &busy,
            carried,
            MEAN_BIAS * carried,
            0.01,
        );
        for r in &reports {
            assert_eq!(r.services[0].max_queue, 0, "queue: 0 never queues");
        }
    }
}

/// M/D/1 at λ = 0.8 with a constant 1 ms service: Wq = 2.0, W = 3.0, Lq = 1.6
/// (Pollaczek–Khinchine with C_s² = 0: half the M/M/1 wait).
#[test]
fn md1_pollaczek_khinchine() {
    let wq = mg1_wq(0.8, 1.0, 0.0).unwrap();
    assert_exact("theory Wq", wq, 2.0);
    let model = one_service(800.0, r#"workers: 1, work: Const("1ms")"#);
    let reports = replicate(&model, &opts(151.0, WARMUP_S));
    let w = each(&reports, |r| r.entries[0].latency.mean_ms);
    assert_matches("M/D/1 W [ms]", &w, wq + 1.0, MEAN_BIAS * (wq + 1.0), 0.05);
    // Service is exactly 1 ms, so each request's wait is its sojourn − 1 ms.
    let wait = each(&reports, |r| r.entries[0].latency.mean_ms - 1.0);
    assert_matches("M/D/1 Wq [ms]", &wait, wq, MEAN_BIAS * (wq + 1.0), 0.05);
    let lq = each(&reports, |r| r.services[0].mean_queue);
    assert_matches("M/D/1 Lq", &lq, 0.8 * wq, MEAN_BIAS * 0.8 * wq, 0.05);
}

/// The waiting time before a worker, measured per request (`wait`), and the probability of
/// waiting (`wait_probability`) of M/M/1 at ρ = 0.5 with a mean service of 5 ms (λ = 100/s,
/// μ = 200/s): P(wait) = ρ = 0.5, W_q = ρ/(μ − λ) = 5 ms, and the wait's tail
/// P(W_q > t) = ρ·e^{−(μ−λ)t}, whose 90th and 99th percentiles are ln(10ρ)/(μ − λ) = 16.09 ms
/// and ln(100ρ)/(μ − λ) = 39.12 ms. Ten replications of 400 s (40,000 requests each; the
/// relaxation time 1/(μ(1 − √ρ)²) ≈ 58 ms, so the 1 s warm-up is 17 of them). The time
/// average of the waiting room and the per-request waits are two measurements of one sample
/// path: by Little's law on the waiting room they agree in every run, up to the few
/// requests waiting across the warm-up and the end.
#[test]
fn mm1_wait_before_a_worker_and_probability_of_waiting() {
    let (rho, mu) = (0.5, 0.2); // μ per ms: mean service 5 ms
    let lambda = rho * mu;
    let m = mmc(1, lambda, mu).unwrap();
    assert_exact("theory Wq", m.wq, 5.0);
    assert_exact("theory P(wait)", m.p_wait, rho);
    let model = one_service(lambda * 1000.0, r#"workers: 1, work: Exp(mean: "5ms")"#);
    let reports = replicate(&model, &opts(401.0, WARMUP_S));
    let p = each(&reports, |r| r.services[0].wait_probability);
    assert_matches("M/M/1 P(wait)", &p, rho, 0.0, 0.02);
    let wq = each(&reports, |r| r.services[0].wait.mean_ms);
    assert_matches("M/M/1 Wq [ms]", &wq, m.wq, MEAN_BIAS * m.wq, 0.08);
    for (q, get, max_rel) in [
        (
            0.9,
            (|r: &Report| r.services[0].wait.p90_ms) as fn(&Report) -> f64,
            0.08,
        ),
        (0.99, |r: &Report| r.services[0].wait.p99_ms, 0.10),
    ] {
        let t_q = (rho / (1.0 - q)).ln() / (mu - lambda);
        let v = each(&reports, get);
        assert_matches(
            &format!("M/M/1 Wq p{q} [ms]"),
            &v,
            t_q,
            WAIT_PCT_BIAS * t_q,
            max_rel,
        );
    }
    for r in &reports {
        let s = &r.services[0];
        let lambda_hat = s.arrivals as f64 / (measured_s(r) * 1000.0);
        let little = lambda_hat * s.wait.mean_ms;
        assert!(
            (s.mean_queue - little).abs() <= 5e-3 * s.mean_queue,
            "Lq {} vs λ·Wq {little}",
            s.mean_queue
        );
        // Every request a worker took has a wait, 0 or not: all arrivals but those still
        // queued at the end.
        assert!(s.arrivals - s.wait.count <= s.max_queue);
    }
}

/// The waiting time before a worker (W_q) and the probability of waiting, measured per
/// request, against Erlang C for an M/M/4 service at ρ = 0.7 (λ = 2.8, μ = 1): P(wait) =
/// C(4, 2.8), W_q = C/(cμ − λ), and the wait's tail P(W_q > t) = C·e^{−(cμ−λ)t}, whose 99th
/// percentile is ln(100·C)/(cμ − λ). Ten replications of 80 s (220,000 requests each).
#[test]
fn mmc_wait_before_a_worker_and_probability_of_waiting() {
    let (c, lambda) = (4, 2.8);
    let m = mmc(c, lambda, 1.0).unwrap();
    let model = one_service(
        lambda * 1000.0,
        &format!(r#"workers: {c}, work: Exp(mean: "1ms")"#),
    );
    let reports = replicate(&model, &opts(81.0, WARMUP_S));
    let p = each(&reports, |r| r.services[0].wait_probability);
    assert_matches("M/M/4 P(wait)", &p, m.p_wait, 0.0, 0.03);
    let wq = each(&reports, |r| r.services[0].wait.mean_ms);
    assert_matches("M/M/4 Wq [ms]", &wq, m.wq, MEAN_BIAS * m.wq, 0.08);
    let rate = f64::from(c) - lambda; // cμ − λ, per ms
    let q99 = (100.0 * m.p_wait).ln() / rate;
    let p99 = each(&reports, |r| r.services[0].wait.p99_ms);
    assert_matches("M/M/4 Wq p99 [ms]", &p99, q99, WAIT_PCT_BIAS * q99, 0.08);
    for r in &reports {
        let s = &r.services[0];
        // Every request a worker took has a wait: all arrivals but those still queued at
        // the end (at most the longest queue). Those taken at once wait 0, and with
        // P(wait) = 0.43 they are the majority.
        assert!(s.wait.count <= s.arrivals);
        assert!(s.arrivals - s.wait.count <= s.max_queue);
        assert_eq!(s.wait.p50_ms, 0.0, "most requests find a free worker");
    }
}

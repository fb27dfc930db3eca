//! Invariants: Little's law and the conservation of requests, on every bundled topology and
//! on generated ones (property tests); and every report loads back from its JSON.
//!
//! Little's law L = λW is a sample-path identity, not a statistical estimate: over a window
//! of length T, ∫ N dt equals the sum of the time each request spent in the window. The
//! report measures the three quantities independently (a time integral of the number present,
//! a count of arrivals, a sum of latencies), so they agree up to edge effects only — requests
//! present when the window opens or still present when it closes — which the tests bound.

use crate::common::{assert_exact, assert_loads_back, bundled, model, opts};
use microsim::report::ServiceReport;
use microsim::run_traced;
use microsim::time::SimDuration;
use microsim::{Model, Outcome, Report, RunOptions};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::RngSeed;
use std::fmt::Write;

/// The measured window of a run [s].
fn measured_s(r: &Report) -> f64 {
    r.duration_s - r.warmup_s
}

/// Conservation checks that hold for any run, drained or not.
fn check_conservation(r: &Report) {
    for e in &r.entries {
        let answered = e.outcomes.total();
        assert!(
            answered <= e.offered,
            "{}: more answers than requests",
            e.name
        );
        assert_eq!(e.offered, answered + e.in_flight, "{}", e.name);
    }
    for s in &r.services {
        let done = s.outcomes.total();
        // Whatever has not ended is still at the service: at most a full queue plus one
        // request per worker (max_queue is the most ever waiting, so it bounds the end too).
        let capacity = s.max_queue + u64::from(s.replicas * s.workers);
        assert!(
            done <= s.arrivals && s.arrivals - done <= capacity,
            "{}: {} arrivals, {done} ended, capacity {capacity}",
            s.name,
            s.arrivals
        );
        assert!(s.orphaned <= done, "{}", s.name);
        assert!((0.0..=1.0 + 1e-12).contains(&s.utilization), "{}", s.name);
        assert!(s.mean_queue <= s.mean_in_system + 1e-12, "{}", s.name);
    }
    for c in &r.calls {
        assert_eq!(
            c.outcomes.total() + c.in_flight,
            c.calls,
            "{} → {}",
            c.from,
            c.to
        );
    }
}

/// Little's law with no edge effects: run every bundled topology for a minute, stop the
/// arrivals and drain it. Every request that entered a service has left it, so the area
/// under the number in system equals the sum of the sojourn times exactly (up to floating
/// point): ∫N dt = Σ W, checked to a relative 1e-9 at every service.
#[test]
fn littles_law_is_exact_on_drained_bundled_topologies() {
    for path in bundled() {
        let model = microsim::load(&path).unwrap();
        let r = model
            .run(&RunOptions {
                duration: Some(SimDuration::from_secs(60)),
                warmup: Some(SimDuration::ZERO),
                drain: true,
                ..Default::default()
            })
            .unwrap();
        // It drained before the cap: nothing is left anywhere.
        assert!(
            r.duration_s < 60.0 * (1 + microsim::engine::MAX_DRAIN_FACTOR) as f64,
            "{}: did not drain",
            path.display()
        );
        for e in &r.entries {
            assert_eq!(e.in_flight, 0, "{}: {}", path.display(), e.name);
        }
        for s in &r.services {
            let area = s.mean_in_system * r.duration_s;
            let sojourns = s.latency.mean_ms / 1e3 * s.latency.count as f64;
            assert!(
                (area - sojourns).abs() <= 1e-9 * sojourns.max(1.0),
                "{}: service {}: ∫N dt = {area} s but Σ W = {sojourns} s",
                path.display(),
                s.name
            );
        }
    }
}

/// L = λW at every service of every bundled topology, over the whole run.
#[test]
fn littles_law_on_bundled_topologies() {
    for path in bundled() {
        let model = microsim::load(&path).unwrap();
        // From time 0, so that the window opens on an empty system.
        let r = model
            .run(&opts(model.run_config().duration.as_secs_f64(), 0.0))
            .unwrap();
        check_conservation(&r);
        let t = measured_s(&r);
        for s in &r.services {
            // Accepted arrivals: requests refused at the door (queue full, or replica down)
            // spend no time in the system and are not in the latency histogram, so they are
            // the ended requests with a sojourn (the histogram's count) plus those still there
            // (N_T below). Without crashes this is `arrivals − rejected`; with them the report
            // does not split `unavailable` into refused at the door and lost inside (which did
            // spend time), and the histogram's count does.
            // Edge effects: the window opens on an empty system; when it closes, the
            // N_T = arrivals − ended requests still present have added their age to ∫N dt
            // but no sojourn to W, while λW·T spreads the mean sojourn over them too. Taking
            // an age to be at most the longest sojourn S seen: |L − λW| ≤ 2·N_T·S/T.
            let n_t = (s.arrivals - s.outcomes.total()) as f64;
            let lambda = (s.latency.count as f64 + n_t) / t;
            let w = s.latency.mean_ms / 1e3;
            let tol = 2.0 * n_t * (s.latency.max_ms / 1e3) / t + 1e-9 * s.mean_in_system;
            assert!(
                (s.mean_in_system - lambda * w).abs() <= tol,
                "{}: service {}: L = {} but λW = {lambda} × {w} = {} (tolerance {tol})",
                path.display(),
                s.name,
                s.mean_in_system,
                lambda * w
            );
            // The check must be able to fail: the edge allowance is small against L.
            assert!(
                tol <= 0.01 * s.mean_in_system,
                "{}: service {}: edge allowance {tol} too wide against L = {}",
                path.display(),
                s.name,
                s.mean_in_system
            );
        }
    }
}

/// The warm-up only moves the start of the statistics: the same seed run from 0 to the
/// warm-up (C), and from the warm-up to the end (B), adds up exactly to the run from 0 to the
/// end (A) — time integrals, arrivals and offered requests alike — and the time series, which
/// cover the whole run, do not depend on it. Tried with each file's warm-up and with one that
/// falls inside a time-series bucket.
#[test]
fn warm_up_splits_the_run_exactly() {
    for path in bundled() {
        let model = microsim::load(&path).unwrap();
        // At least twice the file's warm-up, so that the warm-up splits the run.
        let end_s = 60f64.max(2.0 * model.run_config().warmup.as_secs_f64());
        let a = model.run(&opts(end_s, 0.0)).unwrap();
        // (Durations are whole milliseconds here, exact through f64.)
        for w_s in [model.run_config().warmup.as_secs_f64(), 2.5] {
            let what = format!("{} with a {w_s} s warm-up", path.display());
            assert!(w_s > 0.0 && w_s < end_s, "{what}");
            let b = model.run(&opts(end_s, w_s)).unwrap();
            let c = model.run(&opts(w_s, 0.0)).unwrap();
            check_conservation(&b);
            assert!(a.series == b.series, "{what}: time series differ");
            let (ta, tb, tc) = (end_s, measured_s(&b), w_s);
            for ((sa, sb), sc) in a.services.iter().zip(&b.services).zip(&c.services) {
                let what = format!("{what}: {}", sa.name);
                assert_eq!(sa.arrivals, sb.arrivals + sc.arrivals, "{what}: arrivals");
                for (name, get) in [
                    (
                        "∫N dt",
                        (|s: &ServiceReport| s.mean_in_system) as fn(&ServiceReport) -> f64,
                    ),
                    ("∫queue dt", |s: &ServiceReport| s.mean_queue),
                    ("∫busy dt", |s: &ServiceReport| s.mean_busy_workers),
                ] {
                    let (ia, ib, ic) = (get(sa) * ta, get(sb) * tb, get(sc) * tc);
                    assert_exact(&format!("{what}: {name}"), ib + ic, ia);
                }
            }
            for ((ea, eb), ec) in a.entries.iter().zip(&b.entries).zip(&c.entries) {
                assert_eq!(ea.offered, eb.offered + ec.offered, "{what}");
            }
        }
    }
}

// ---- generated topologies ---------------------------------------------------------------

/// A duration distribution with times in µs.
#[derive(Clone, Debug)]
enum GDist {
    Exp(u32),
    Const(u32),
    Uniform(u32, u32),
    LogNormal(u32, u32),
    Gamma(u32, u32),
    Empirical(Vec<u32>),
}

/// What a failed call does to its caller.
#[derive(Clone, Debug)]
enum GOnFailure {
    Fail,
    Ignore,
    Fallback(GDist),
}

/// A retry policy; times in µs.
#[derive(Clone, Debug)]
struct GRetry {
    attempts: u32,
    /// `(exponential, base, max − base, multiplier × 10)`; a constant uses `base` only.
    backoff: Option<(bool, u32, u32, u32)>,
    jitter: &'static str,
    /// `None`: the default list.
    on: Option<Vec<&'static str>>,
    other_replica: Option<bool>,
    budget: Option<GBudget>,
}

#[derive(Clone, Debug)]
enum GBudget {
    /// `percent`, `min_concurrency`.
    Envoy(u32, Option<u32>),
    /// `max_tokens`, `token_ratio` in thousandths.
    TokenBucket(u32, u32),
}

/// A circuit breaker; rates in %, times in ms unless said.
#[derive(Clone, Debug)]
struct GBreaker {
    /// `(time window, size)`: calls, or seconds.
    window: Option<(bool, u32)>,
    min_calls: Option<u32>,
    failure_rate: Option<u32>,
    slow_call_rate: Option<u32>,
    slow_call_us: Option<u32>,
    open_for_ms: u32,
    half_open_calls: Option<u32>,
    automatic: bool,
    max_half_open_ms: Option<u32>,
}

/// The resilience policies of a call.
#[derive(Clone, Debug)]
struct GPolicies {
    retry: Option<GRetry>,
    breaker: Option<GBreaker>,
    /// `(max_concurrent, max_wait in µs)`.
    bulkhead: Option<(u32, Option<u32>)>,
}

#[derive(Clone, Debug)]
enum GStep {
    Work(GDist),
    Call {
        /// Picks a callee among the services after the caller (so the graph is a DAG).
        target: u32,
        timeout_us: Option<u32>,
        latency: Option<GDist>,
        percent: Option<u32>,
        on_failure: GOnFailure,
        policies: GPolicies,
    },
    Parallel {
        branches: Vec<Vec<GStep>>,
        percent: Option<u32>,
    },
    Choice {
        branches: Vec<(u32, Vec<GStep>)>,
        percent: Option<u32>,
    },
}

#[derive(Clone, Debug)]
struct GService {
    replicas: u32,
    workers: u32,
    queue: Option<u32>,
    work: Option<GDist>,
    error_percent: Option<u32>,
    balancer: &'static str,
    steps: Vec<GStep>,
    /// `(mean time to failure, mean time to repair, in ms; exponential or not)`.
    failures: Option<(u32, u32, bool)>,
}

/// A fault of the timeline; times in µs. Services and edges are picked modulo what exists.
#[derive(Clone, Debug)]
enum GFaultKind {
    Crash(u32, Option<u32>),
    Hang(u32, Option<u32>),
    /// Factor in tenths.
    Slowdown(u32, u32, Option<u32>),
    /// Error probability in %.
    ErrorBurst(u32, u32, Option<u32>),
    Partition(u32),
    Latency(u32, GDist),
}

#[derive(Clone, Debug)]
struct GFault {
    at_us: u32,
    lasts_us: u32,
    kind: GFaultKind,
}

#[derive(Clone, Debug)]
struct GEntry {
    target: u32,
    poisson: bool,
    per_second: u32,
    timeout_us: Option<u32>,
}

#[derive(Clone, Debug)]
struct GTopology {
    services: Vec<GService>,
    entries: Vec<GEntry>,
    faults: Vec<GFault>,
    seed: u64,
}

impl GTopology {
    /// Whether a partition may lose messages: then every call gets a timeout, or a lost
    /// request would never end (its caller would wait forever, as documented).
    fn has_partition(&self) -> bool {
        self.faults
            .iter()
            .any(|f| matches!(f.kind, GFaultKind::Partition(_)))
    }
}

fn dist() -> impl Strategy<Value = GDist> {
    prop_oneof![
        (50..2000u32).prop_map(GDist::Exp),
        (0..2000u32).prop_map(GDist::Const),
        (0..1000u32, 0..2000u32).prop_map(|(lo, w)| GDist::Uniform(lo, lo + w)),
        (50..1000u32, 11..50u32).prop_map(|(m, f)| GDist::LogNormal(m, m * f / 10)),
        (50..2000u32, 2..20u32).prop_map(|(m, cv)| GDist::Gamma(m, cv)),
        prop::collection::vec(0..2000u32, 1..4).prop_map(GDist::Empirical),
    ]
}

fn small_latency() -> impl Strategy<Value = Option<GDist>> {
    prop_oneof![
        2 => Just(None),
        1 => (0..500u32).prop_map(|v| Some(GDist::Const(v))),
        1 => (10..500u32).prop_map(|v| Some(GDist::Exp(v))),
    ]
}

fn percent() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![Just(None), (0..=100u32).prop_map(Some)]
}

fn on_failure() -> impl Strategy<Value = GOnFailure> {
    prop_oneof![
        3 => Just(GOnFailure::Fail),
        1 => Just(GOnFailure::Ignore),
        1 => small_latency().prop_map(|d| GOnFailure::Fallback(d.unwrap_or(GDist::Const(0)))),
    ]
}

fn retry() -> impl Strategy<Value = GRetry> {
    let budget = prop_oneof![
        (1..=100u32, prop::option::of(0..=3u32)).prop_map(|(p, m)| GBudget::Envoy(p, m)),
        (1..=20u32, 1..=2000u32).prop_map(|(m, r)| GBudget::TokenBucket(m, r)),
    ];
    (
        1..=4u32,
        prop::option::of((any::<bool>(), 1..5000u32, 0..20_000u32, 10..=30u32)),
        prop::sample::select(vec!["None", "Full", "Equal", "Decorrelated"]),
        prop::option::of(prop::sample::subsequence(
            vec!["Error", "Timeout", "Rejected", "CircuitOpen", "Unavailable"],
            0..=5,
        )),
        prop::option::of(any::<bool>()),
        prop::option::weighted(0.4, budget),
    )
        .prop_map(
            |(attempts, backoff, jitter, on, other_replica, budget)| GRetry {
                attempts,
                backoff,
                jitter,
                on,
                other_replica,
                budget,
            },
        )
}

fn breaker() -> impl Strategy<Value = GBreaker> {
    (
        prop::option::of((any::<bool>(), 1..=20u32)),
        // Mostly given: the default (100 calls) rarely decides in a generated run.
        prop::option::weighted(0.9, 1..=20u32),
        prop::option::of(1..=100u32),
        prop::option::of(1..=100u32),
        prop::option::of(100..50_000u32),
        100..2000u32,
        prop::option::of(1..=5u32),
        any::<bool>(),
        prop::option::of(10..1000u32),
    )
        .prop_map(
            |(
                window,
                min_calls,
                failure_rate,
                slow_call_rate,
                slow_call_us,
                open_for_ms,
                half_open_calls,
                automatic,
                max_half_open_ms,
            )| GBreaker {
                window: window.map(|(time, n)| (time, if time { 1 + n % 5 } else { n })),
                min_calls,
                failure_rate,
                slow_call_rate,
                slow_call_us,
                open_for_ms,
                half_open_calls,
                automatic,
                max_half_open_ms,
            },
        )
}

fn policies() -> impl Strategy<Value = GPolicies> {
    (
        prop::option::weighted(0.4, retry()),
        prop::option::weighted(0.4, breaker()),
        prop::option::weighted(0.4, (1..=3u32, prop::option::of(0..5000u32))),
    )
        .prop_map(|(retry, breaker, bulkhead)| GPolicies {
            retry,
            breaker,
            bulkhead,
        })
}

fn leaf() -> impl Strategy<Value = GStep> {
    prop_oneof![
        1 => dist().prop_map(GStep::Work),
        3 => (
            any::<u32>(),
            prop::option::of(100..20_000u32),
            small_latency(),
            percent(),
            on_failure(),
            policies(),
        )
            .prop_map(|(target, timeout_us, latency, percent, on_failure, policies)| {
                GStep::Call {
                    target,
                    timeout_us,
                    latency,
                    percent,
                    on_failure,
                    policies,
                }
            }),
    ]
}

fn step() -> impl Strategy<Value = GStep> {
    let branch = || prop::collection::vec(leaf(), 0..3);
    prop_oneof![
        3 => leaf(),
        1 => (prop::collection::vec(branch(), 1..3), percent())
            .prop_map(|(branches, percent)| GStep::Parallel { branches, percent }),
        1 => (prop::collection::vec((1..5u32, branch()), 1..3), percent())
            .prop_map(|(branches, percent)| GStep::Choice { branches, percent }),
    ]
}

fn service() -> impl Strategy<Value = GService> {
    (
        1..=3u32,
        1..=4u32,
        prop::option::weighted(0.8, 0..=6u32),
        prop::option::of(dist()),
        prop::option::of(0..=30u32),
        prop::sample::select(vec![
            "RoundRobin",
            "Random",
            "LeastOutstanding",
            "PowerOfTwo",
        ]),
        prop::collection::vec(step(), 0..4),
        prop::option::weighted(0.2, (500..5000u32, 10..500u32, any::<bool>())),
    )
        .prop_map(
            |(replicas, workers, queue, work, error_percent, balancer, steps, failures)| GService {
                replicas,
                workers,
                queue,
                work,
                error_percent,
                balancer,
                steps,
                failures,
            },
        )
}

/// Faults start within the first 1.5 s (arrivals stop at 1 s) and last at most 1 s, so a
/// hang always ends long before the run does and the requests it holds are answered.
fn fault() -> impl Strategy<Value = GFault> {
    let replicas = || prop::option::of(any::<u32>());
    let kind = prop_oneof![
        (any::<u32>(), replicas()).prop_map(|(s, k)| GFaultKind::Crash(s, k)),
        (any::<u32>(), replicas()).prop_map(|(s, k)| GFaultKind::Hang(s, k)),
        (any::<u32>(), 1..=50u32, replicas()).prop_map(|(s, f, k)| GFaultKind::Slowdown(s, f, k)),
        (any::<u32>(), 0..=100u32, replicas())
            .prop_map(|(s, p, k)| GFaultKind::ErrorBurst(s, p, k)),
        any::<u32>().prop_map(GFaultKind::Partition),
        (any::<u32>(), dist()).prop_map(|(e, d)| GFaultKind::Latency(e, d)),
    ];
    (0..1_500_000u32, 1..1_000_000u32, kind).prop_map(|(at_us, lasts_us, kind)| GFault {
        at_us,
        lasts_us,
        kind,
    })
}

fn topology() -> impl Strategy<Value = GTopology> {
    let entry = (
        any::<u32>(),
        any::<bool>(),
        10..2000u32,
        prop::option::of(500..50_000u32),
    )
        .prop_map(|(target, poisson, per_second, timeout_us)| GEntry {
            target,
            poisson,
            per_second,
            timeout_us,
        });
    (
        prop::collection::vec(service(), 2..=6),
        prop::collection::vec(entry, 1..=2),
        prop::collection::vec(fault(), 0..=3),
        any::<u64>(),
    )
        .prop_map(|(services, entries, faults, seed)| GTopology {
            services,
            entries,
            faults,
            seed,
        })
}

fn render_dist(d: &GDist) -> String {
    match d {
        GDist::Exp(m) => format!(r#"Exp(mean: "{m}us")"#),
        GDist::Const(v) => format!(r#"Const("{v}us")"#),
        GDist::Uniform(lo, hi) => format!(r#"Uniform(min: "{lo}us", max: "{hi}us")"#),
        GDist::LogNormal(m, p) => format!(r#"LogNormal(median: "{m}us", p99: "{p}us")"#),
        GDist::Gamma(m, cv) => format!(r#"Gamma(mean: "{m}us", cv: {:.1})"#, f64::from(*cv) / 10.0),
        GDist::Empirical(v) => {
            let items: Vec<String> = v.iter().map(|x| format!(r#""{x}us""#)).collect();
            format!("Empirical([{}])", items.join(", "))
        }
    }
}

fn render_probability(p: Option<u32>) -> String {
    p.map_or(String::new(), |p| {
        format!(", probability: {:.2}", f64::from(p) / 100.0)
    })
}

fn render_policies(p: &GPolicies, out: &mut String) {
    if let Some(r) = &p.retry {
        write!(out, ", retry: (attempts: {}", r.attempts).unwrap();
        let constant = match r.backoff {
            Some((true, base, extra, m)) => {
                write!(
                    out,
                    r#", backoff: Exponential(base: "{base}us", max: "{}us", multiplier: {:.1})"#,
                    base + extra,
                    f64::from(m) / 10.0
                )
                .unwrap();
                false
            }
            Some((false, c, _, _)) => {
                write!(out, r#", backoff: Constant("{c}us")"#).unwrap();
                true
            }
            None => true,
        };
        // Decorrelated jitter needs a base and a max: not with a constant delay.
        let jitter = if constant && r.jitter == "Decorrelated" {
            "Full"
        } else {
            r.jitter
        };
        write!(out, ", jitter: {jitter}").unwrap();
        if let Some(on) = &r.on {
            write!(out, ", on: [{}]", on.join(", ")).unwrap();
        }
        if let Some(o) = r.other_replica {
            write!(out, ", other_replica: {o}").unwrap();
        }
        match r.budget {
            Some(GBudget::Envoy(p, m)) => {
                write!(out, ", budget: Envoy(percent: {p}").unwrap();
                if let Some(m) = m {
                    write!(out, ", min_concurrency: {m}").unwrap();
                }
                out.push(')');
            }
            Some(GBudget::TokenBucket(m, r)) => write!(
                out,
                ", budget: TokenBucket(max_tokens: {m}, token_ratio: {:.3})",
                f64::from(r) / 1000.0
            )
            .unwrap(),
            None => {}
        }
        out.push(')');
    }
    if let Some(b) = &p.breaker {
        write!(out, r#", breaker: (open_for: "{}ms""#, b.open_for_ms).unwrap();
        match b.window {
            Some((true, secs)) => write!(out, r#", window: Time("{secs}s")"#).unwrap(),
            Some((false, n)) => write!(out, ", window: Count({n})").unwrap(),
            None => {}
        }
        if let Some(n) = b.min_calls {
            write!(out, ", min_calls: {n}").unwrap();
        }
        if let Some(r) = b.failure_rate {
            write!(out, ", failure_rate: {:.2}", f64::from(r) / 100.0).unwrap();
        }
        if let Some(r) = b.slow_call_rate {
            write!(out, ", slow_call_rate: {:.2}", f64::from(r) / 100.0).unwrap();
        }
        if let Some(d) = b.slow_call_us {
            write!(out, r#", slow_call: "{d}us""#).unwrap();
        }
        if let Some(n) = b.half_open_calls {
            write!(out, ", half_open_calls: {n}").unwrap();
        }
        write!(out, ", automatic: {}", b.automatic).unwrap();
        if let Some(d) = b.max_half_open_ms {
            write!(out, r#", max_half_open: "{d}ms""#).unwrap();
        }
        out.push(')');
    }
    if let Some((n, wait)) = p.bulkhead {
        write!(out, ", bulkhead: (max_concurrent: {n}").unwrap();
        if let Some(w) = wait {
            write!(out, r#", max_wait: "{w}us""#).unwrap();
        }
        out.push(')');
    }
}

/// Where rendering stands: the call edges written so far (for edge faults), and whether every
/// call must have a timeout (when a partition may lose its messages).
struct RenderCtx {
    edges: Vec<(usize, usize)>,
    force_timeouts: bool,
}

/// Renders `steps` of service `i` of `n` (calls go to a later service; the last service
/// cannot call, so its calls become a little work).
fn render_steps(steps: &[GStep], i: usize, n: usize, ctx: &mut RenderCtx) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|s| match s {
            GStep::Work(d) => format!("Work({})", render_dist(d)),
            GStep::Call { .. } if i + 1 >= n => r#"Work(Const("10us"))"#.to_string(),
            GStep::Call {
                target,
                timeout_us,
                latency,
                percent,
                on_failure,
                policies,
            } => {
                let to = i + 1 + (*target as usize) % (n - i - 1);
                ctx.edges.push((i, to));
                let mut out = format!(r#"Call(to: "s{to}""#);
                let timeout = match timeout_us {
                    None if ctx.force_timeouts => Some(20_000),
                    t => *t,
                };
                if let Some(t) = timeout {
                    write!(out, r#", timeout: "{t}us""#).unwrap();
                }
                if let Some(l) = latency {
                    write!(out, ", latency: {}", render_dist(l)).unwrap();
                }
                out.push_str(&render_probability(*percent));
                match on_failure {
                    GOnFailure::Fail => {}
                    GOnFailure::Ignore => out.push_str(", on_failure: Ignore"),
                    GOnFailure::Fallback(d) => {
                        write!(out, ", on_failure: Fallback({})", render_dist(d)).unwrap();
                    }
                }
                render_policies(policies, &mut out);
                out.push(')');
                out
            }
            GStep::Parallel { branches, percent } => {
                let b: Vec<String> = branches
                    .iter()
                    .map(|b| format!("[{}]", render_steps(b, i, n, ctx)))
                    .collect();
                format!(
                    "Parallel(branches: [{}]{})",
                    b.join(", "),
                    render_probability(*percent)
                )
            }
            GStep::Choice { branches, percent } => {
                let b: Vec<String> = branches
                    .iter()
                    .map(|(w, steps)| {
                        format!("(weight: {w}, steps: [{}])", render_steps(steps, i, n, ctx))
                    })
                    .collect();
                format!(
                    "Choice(branches: [{}]{})",
                    b.join(", "),
                    render_probability(*percent)
                )
            }
        })
        .collect();
    parts.join(", ")
}

fn render_fault(f: &GFault, t: &GTopology, edges: &[(usize, usize)]) -> Option<String> {
    let n = t.services.len();
    let service = |s: u32, k: Option<u32>| {
        let s = s as usize % n;
        let replicas = k.map_or(String::new(), |k| {
            format!(", replicas: {}", 1 + k % t.services[s].replicas)
        });
        (format!(r#"service: "s{s}""#), replicas)
    };
    let edge = |e: u32| {
        let (from, to) = *edges.get(e as usize % edges.len().max(1))?;
        Some(format!(r#"from: "s{from}", to: "s{to}""#))
    };
    let kind = match &f.kind {
        GFaultKind::Crash(s, k) => {
            let (s, k) = service(*s, *k);
            format!("Crash({s}{k})")
        }
        GFaultKind::Hang(s, k) => {
            let (s, k) = service(*s, *k);
            format!("Hang({s}{k})")
        }
        GFaultKind::Slowdown(s, x, k) => {
            let (s, k) = service(*s, *k);
            format!("Slowdown({s}, factor: {:.1}{k})", f64::from(*x) / 10.0)
        }
        GFaultKind::ErrorBurst(s, p, k) => {
            let (s, k) = service(*s, *k);
            format!("ErrorBurst({s}, errors: {:.2}{k})", f64::from(*p) / 100.0)
        }
        GFaultKind::Partition(e) => format!("Partition({})", edge(*e)?),
        GFaultKind::Latency(e, d) => format!("Latency({}, add: {})", edge(*e)?, render_dist(d)),
    };
    Some(format!(
        r#"    (at: "{}us", lasts: "{}us", fault: {kind}),"#,
        f.at_us, f.lasts_us
    ))
}

/// The topology as a file. Arrivals stop after 1 s and the run goes on to 600 s, so that
/// every request has ended by then (at most 4,000 requests, work of milliseconds per step,
/// mostly small queues, faults over by 2.5 s; a run stops early once no event is left, so the
/// long tail is free — except for failure processes, whose few events per second go on).
fn render(t: &GTopology) -> String {
    let n = t.services.len();
    let mut out = format!(
        "Topology(\n  run: (duration: \"600s\", seed: {}),\n  workload: [\n",
        t.seed
    );
    for (k, e) in t.entries.iter().enumerate() {
        let kind = if e.poisson { "Poisson" } else { "Constant" };
        write!(
            out,
            r#"    (name: "e{k}", entry: "s{}", arrivals: {kind}(per_second: {}, profile: [(at: "1s", per_second: 0)])"#,
            e.target as usize % n,
            e.per_second
        )
        .unwrap();
        if let Some(t) = e.timeout_us {
            write!(out, r#", timeout: "{t}us""#).unwrap();
        }
        out.push_str("),\n");
    }
    out.push_str("  ],\n  services: {\n");
    let mut ctx = RenderCtx {
        edges: Vec::new(),
        force_timeouts: t.has_partition(),
    };
    for (i, s) in t.services.iter().enumerate() {
        write!(
            out,
            "    \"s{i}\": (replicas: {}, workers: {}, balancer: {}",
            s.replicas, s.workers, s.balancer
        )
        .unwrap();
        if let Some(q) = s.queue {
            write!(out, ", queue: {q}").unwrap();
        }
        if let Some(w) = &s.work {
            write!(out, ", work: {}", render_dist(w)).unwrap();
        }
        if let Some(e) = s.error_percent {
            write!(out, ", errors: {:.2}", f64::from(e) / 100.0).unwrap();
        }
        match s.failures {
            Some((mttf, mttr, true)) => {
                write!(out, r#", failures: (mttf: "{mttf}ms", mttr: "{mttr}ms")"#).unwrap();
            }
            Some((mttf, mttr, false)) => write!(
                out,
                r#", failures: (failure: Uniform(min: "{}ms", max: "{}ms"), repair: Const("{mttr}ms"))"#,
                mttf / 2,
                mttf + mttf / 2
            )
            .unwrap(),
            None => {}
        }
        writeln!(
            out,
            ", steps: [{}]),",
            render_steps(&s.steps, i, n, &mut ctx)
        )
        .unwrap();
    }
    out.push_str("  },\n");
    let faults: Vec<String> = t
        .faults
        .iter()
        .filter_map(|f| render_fault(f, t, &ctx.edges))
        .collect();
    if !faults.is_empty() {
        writeln!(out, "  faults: [\n{}\n  ],", faults.join("\n")).unwrap();
    }
    out.push_str(")\n");
    out
}

/// Every check of a drained run (warm-up 0, nothing left in flight at the end).
///
/// Faults and failure processes change some checks, legitimately:
/// * A partition loses messages: a request lost on the way never arrives, so a callee may
///   see fewer arrivals than its callers sent attempts. (Every call then has a timeout — see
///   [`GTopology::has_partition`] — so the requests still end.)
/// * A crash (or a failure) of a caller drops the calls in progress inside it: they never
///   end as calls (their request ended `unavailable`), so calls may stay `in_flight`, and a
///   retry due after the crash is never sent.
fn check_drained(model: &Model) -> Result<(), TestCaseError> {
    use microsim::model::faults::FaultKind;
    let partitions = model
        .faults()
        .iter()
        .any(|f| matches!(f.kind, FaultKind::Partition { .. }));
    let crashes = model.services().iter().any(|s| s.failures.is_some())
        || model
            .faults()
            .iter()
            .any(|f| matches!(f.kind, FaultKind::Crash { .. }));
    let analysis = model.analyze();
    prop_assert_eq!(analysis.entries.len(), model.entries().len());
    for a in &analysis.entries {
        prop_assert!((0.0..=1.0).contains(&a.availability), "{:?}", a);
    }

    let (r, trace) = run_traced(model, &RunOptions::default())
        .map_err(|e| TestCaseError::fail(format!("run failed: {e}")))?;
    check_conservation(&r);
    // Tracing does not change the run.
    let plain = model.run(&RunOptions::default()).unwrap();
    prop_assert!(plain.to_json() == r.to_json(), "tracing changed the report");

    // Every request ended in exactly one outcome: one trace record per request.
    let offered: u64 = r.entries.iter().map(|e| e.offered).sum();
    prop_assert_eq!(trace.len() as u64, offered);
    prop_assert!(trace.windows(2).all(|w| w[0].time <= w[1].time));
    for (k, e) in r.entries.iter().enumerate() {
        prop_assert_eq!(e.in_flight, 0, "{} did not drain", &e.name);
        for o in Outcome::ALL {
            let traced = trace
                .iter()
                .filter(|t| t.entry as usize == k && t.outcome == o)
                .count() as u64;
            prop_assert_eq!(traced, e.outcomes.get(o), "{} {:?}", &e.name, o);
        }
        // The time series count the same answers.
        let s = &r.series.entries[k];
        let sum = |v: &[u64]| v.iter().sum::<u64>();
        prop_assert_eq!(sum(&s.ok), e.outcomes.ok);
        prop_assert_eq!(sum(&s.error), e.outcomes.error);
        prop_assert_eq!(sum(&s.timeout), e.outcomes.timeout);
        prop_assert_eq!(sum(&s.rejected), e.outcomes.rejected);
        prop_assert_eq!(sum(&s.circuit_open), e.outcomes.circuit_open);
        prop_assert_eq!(sum(&s.unavailable), e.outcomes.unavailable);
        prop_assert_eq!(sum(&s.degraded), e.outcomes.degraded);
        if let Some(t) = model.entries()[k].timeout {
            prop_assert!(
                e.latency.max_ms <= t.as_millis_f64(),
                "entry past its timeout"
            );
        }
    }

    let t = measured_s(&r);
    for (i, s) in r.services.iter().enumerate() {
        let m = &model.services()[i];
        // Every request that reached the service ended there exactly once.
        prop_assert_eq!(s.outcomes.total(), s.arrivals, "service {}", &s.name);
        // Flow conservation: what arrives is what the entry points and the callers sent
        // (attempts: retries included, refusals by breakers and bulkheads excluded), less what
        // partitions lost on the way.
        let from_entries: u64 = r
            .entries
            .iter()
            .filter(|e| e.service == s.name)
            .map(|e| e.offered)
            .sum();
        let from_calls: u64 = r
            .calls
            .iter()
            .filter(|c| c.to == s.name)
            .map(|c| c.attempts)
            .sum();
        if partitions {
            prop_assert!(
                s.arrivals <= from_entries + from_calls,
                "service {}",
                &s.name
            );
        } else {
            prop_assert_eq!(s.arrivals, from_entries + from_calls, "service {}", &s.name);
        }
        prop_assert!(
            s.unavailable <= s.outcomes.unavailable,
            "service {}",
            &s.name
        );
        if let Some(q) = m.queue {
            prop_assert!(
                s.max_queue <= u64::from(q * m.replicas),
                "queue bound at {}",
                &s.name
            );
        }
        if m.queue == Some(0) {
            prop_assert_eq!(s.mean_queue, 0.0);
        }
        // Little's law is exact on a drained run from time 0: ∫N dt = Σ sojourn times.
        let area = s.mean_in_system * t;
        let sojourns = s.latency.mean_ms / 1e3 * s.latency.count as f64;
        prop_assert!(
            (area - sojourns).abs() <= 1e-9 * sojourns.max(1.0),
            "Little's law at {}: ∫N dt = {} s vs Σ W = {} s",
            &s.name,
            area,
            sojourns
        );
    }
    for (c, m) in r.calls.iter().zip(model.calls()) {
        let attempts = m.retry.as_ref().map_or(1, |p| p.attempts);
        // Every attempt started (the first, and each retry) was sent, refused by the breaker,
        // or refused by the bulkhead — unless its caller crashed first.
        let not_permitted = c.breaker.as_ref().map_or(0, |b| b.not_permitted);
        let started = c.attempts + not_permitted + c.bulkhead_rejections;
        if crashes {
            prop_assert!(started <= c.calls + c.retries, "call {}", &c.step);
        } else {
            prop_assert_eq!(started, c.calls + c.retries, "call {}", &c.step);
            prop_assert_eq!(c.in_flight, 0, "call {} did not drain", &c.step);
        }
        prop_assert!(
            c.retries <= c.calls * u64::from(attempts - 1),
            "call {}",
            &c.step
        );
        // Only a budget denies retries.
        prop_assert!(
            c.retries_denied == 0 || m.retry.as_ref().is_some_and(|p| p.budget.is_some()),
            "call {}",
            &c.step
        );
        if let Some(timeout) = m.timeout {
            // Each attempt waits at most max_wait for a permit and the timeout for an answer,
            // and each backoff sleep is at most the schedule's cap (every jitter stays below
            // it).
            let wait = m.bulkhead.map_or(0.0, |b| b.max_wait.as_millis_f64());
            let sleep = m
                .retry
                .as_ref()
                .map_or(0.0, |p| p.backoff.cap().as_millis_f64());
            let bound = f64::from(attempts) * (timeout.as_millis_f64() + wait)
                + f64::from(attempts - 1) * sleep;
            prop_assert!(
                c.latency.max_ms <= bound * (1.0 + 1e-9),
                "call {} lasted {} ms, more than its attempts allow ({} ms)",
                &c.step,
                c.latency.max_ms,
                bound
            );
        }
        if let Some(b) = &c.breaker {
            // The breakers' time in their three states covers the run, once per caller replica.
            let replicas = model.service_at(m.from).replicas;
            prop_assert!(
                (b.closed_s + b.open_s + b.half_open_s - r.duration_s * f64::from(replicas)).abs()
                    <= 1e-6,
                "call {}: breaker time",
                &c.step
            );
            prop_assert_eq!(b.transitions as usize, b.log.len());
            for replica in 0..replicas {
                let mut state = "closed";
                for t in b.log.iter().filter(|t| t.replica == replica) {
                    prop_assert_eq!(t.from.as_str(), state, "call {}", &c.step);
                    state = t.to.as_str();
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 48,
        rng_seed: RngSeed::Fixed(0x6d69_6372_6f73_696d),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random DAGs of 2–6 services with calls, fan-outs, choices, probabilities, timeouts,
    /// network latency, small queues, retries (with budgets), breakers, bulkheads, fallbacks,
    /// faults of every kind and failure processes: the run never fails, every request ends in
    /// exactly one outcome, flows are conserved and Little's law is exact.
    #[test]
    fn generated_topologies_conserve_requests(t in topology()) {
        let text = render(&t);
        let model = microsim::parse(&text, "<generated>")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        check_drained(&model).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    }
}

/// Whether the JSON of a report holds a number that is not finite.
fn has_non_finite(json: &str) -> bool {
    [
        r#": "inf""#,
        r#": "-inf""#,
        r#": "nan""#,
        r#""inf","#,
        r#""nan","#,
    ]
    .iter()
    .any(|s| json.contains(s))
}

/// A generated topology run for 2 s (0.5 s of warm-up) instead of 600: its analytic shadow
/// then sees the arrivals' mean rate over the 1 s they last, and predicts saturation where
/// the load is high.
fn short(text: &str) -> String {
    text.replacen(
        r#"duration: "600s""#,
        r#"duration: "2s", warmup: "500ms""#,
        1,
    )
}

/// Models whose reports hold numbers that are not finite, and other edge cases: each report
/// loads back byte for byte and draws the same charts. Before non-finite numbers were
/// written as strings, the first two wrote `null` where a number belonged and could not be
/// read back (`invalid type: null, expected f64`).
#[test]
fn edge_reports_load_back() {
    let cases = [
        // A saturated callee without a timeout: the caller's holding time is infinite.
        (
            "saturated callee",
            r#"Topology(
                run: (duration: "2s"),
                workload: [(name: "e", entry: "a", arrivals: Poisson(per_second: 200))],
                services: {
                    "a": (workers: 1000, steps: [Call(to: "b")]),
                    "b": (workers: 1, work: Exp(mean: "10ms")),
                },
            )"#,
            true,
        ),
        // A work queue whose service takes no time: infinite capacity.
        (
            "zero-time queue consumer",
            r#"Topology(
                run: (duration: "2s"),
                workload: [(name: "e", send: "q", arrivals: Poisson(per_second: 100))],
                services: { "s": () },
                queues: { "q": (service: "s") },
            )"#,
            true,
        ),
        // A topic group whose service takes no time, and one that idles.
        (
            "zero-time topic consumer",
            r#"Topology(
                run: (duration: "2s"),
                workload: [(name: "e", publish: "t", arrivals: Constant(per_second: 50))],
                services: { "s": (), "idle": (work: Const("1ms")) },
                topics: { "t": (partitions: 2, subscribers: [(service: "s"), (service: "idle", consumers: 4)]) },
            )"#,
            true,
        ),
        // Nothing arrives at all.
        (
            "no arrivals",
            r#"Topology(
                run: (duration: "2s"),
                workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 0))],
                services: { "s": (work: Exp(mean: "1ms")) },
            )"#,
            false,
        ),
        // A chain saturated at its end, with a client timeout: every layer above waits.
        (
            "saturated chain",
            r#"Topology(
                run: (duration: "2s", bucket: "100ms"),
                workload: [(name: "e", entry: "a", arrivals: Constant(per_second: 500), timeout: "50ms")],
                services: {
                    "a": (workers: 64, steps: [Call(to: "b")]),
                    "b": (workers: 64, steps: [Call(to: "c", retry: (attempts: 3))]),
                    "c": (workers: 2, queue: 4, work: Const("10ms")),
                },
            )"#,
            true,
        ),
    ];
    for (what, text, non_finite) in cases {
        let report = model(text).run(&RunOptions::default()).unwrap();
        let json = assert_loads_back(&report, what);
        assert_eq!(has_non_finite(&json), non_finite, "{what}:\n{json}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: RngSeed::Fixed(0x6a73_6f6e_6261_636b),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every report of a generated topology (2 s runs; arrivals stop at 1 s) loads back from
    /// its JSON byte for byte and draws the same charts and page.
    #[test]
    fn generated_reports_load_back(t in topology()) {
        let text = short(&render(&t));
        let model = microsim::parse(&text, "<generated>")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let report = model.run(&RunOptions::default())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        assert_loads_back(&report, &text);
    }
}

/// `check` never prints a negative zero (`-0.000`) for a generated model. A service with
/// nothing to do (no work, no steps) once showed a holding time and ρ of `-0.000`: the sum
/// of no terms is −0 in Rust.
#[test]
fn generated_checks_print_no_negative_zero() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..64 {
        let t = topology().new_tree(&mut runner).unwrap().current();
        let text = short(&render(&t));
        let model = microsim::parse(&text, "<generated>").unwrap();
        let shown = microsim::render::render_analysis(&model, &model.analyze());
        assert!(!shown.contains("-0."), "{shown}\n{text}");
    }
}

/// The generator makes what it claims (guards the property test against a vacuous generator):
/// every step kind, every resilience policy and budget kind, fallbacks, every fault kind and
/// both kinds of failure process.
#[test]
fn generator_renders_valid_topologies_with_every_step_kind() {
    const WORDS: [&str; 18] = [
        "Call(",
        "Parallel(",
        "Choice(",
        "timeout:",
        "retry:",
        "Envoy(",
        "TokenBucket(",
        "breaker:",
        "bulkhead:",
        "Fallback(",
        "Crash(",
        "Hang(",
        "Slowdown(",
        "ErrorBurst(",
        "Partition(",
        "Latency(",
        "mttf:",
        "repair:",
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut seen = [false; WORDS.len()];
    for _ in 0..64 {
        let t = topology().new_tree(&mut runner).unwrap().current();
        let text = render(&t);
        microsim::parse(&text, "<generated>").unwrap_or_else(|e| panic!("{e}\n{text}"));
        for (k, word) in WORDS.iter().enumerate() {
            seen[k] |= text.contains(word);
        }
    }
    let missing: Vec<&str> = WORDS
        .iter()
        .zip(seen)
        .filter(|(_, s)| !s)
        .map(|(w, _)| *w)
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

//! Criterion benchmarks of the simulator, in three groups (STYLE.md item 12):
//!
//! * `frequent` — the operations every event pays for: [`EventQueue`] schedule/pop (the hold
//!   model at several queue sizes), [`LatencyHistogram::record`] and [`Dist::sample`].
//!   Throughput is operations per second.
//! * `behaviours` — one mechanism under load: an M/M/16 pool at ρ = 0.9 with a bounded queue,
//!   a `Parallel` fan-out of 8 calls, and calls that time out (orphaned work, stale timeouts).
//! * `topologies` — whole runs, reported as **simulated requests per second** (criterion's
//!   `elem/s`): M/M/1 at ρ = 0.8 with about 1,000,000 requests (`topologies/mm1.ron`), the
//!   5-service chain (`topologies/chain5.ron`), the work-queue networks M2 and M3
//!   (`topologies/m2.ron`, `m3.ron`), a 100,000 messages/s topic, and a 20-service random
//!   sync tree generated
//!   here, deterministically.
//!
//! Every run of a topology bench is a full `Model::run` with the same seed, so every sample
//! simulates exactly the same requests; histograms and time series are on, as in normal use.
//! Run with `cargo bench` (about two minutes on two cores); one group with
//! `cargo bench --bench engine -- topologies`. `MICROSIM_BENCH_PRINT_TREE=1` prints the
//! generated tree's RON text (to try it with `microsim run`).

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use microsim::engine::kernel::EventQueue;
use microsim::metrics::LatencyHistogram;
use microsim::spec::DistSpec;
use microsim::time::{SimDuration, SimTime};
use microsim::{Model, RunOptions};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

/// Operations per iteration of the `frequent` benches (amortises the timer).
const BATCH: u64 = 1_000;

// ---- helpers -------------------------------------------------------------------------------

/// SplitMix64: a tiny deterministic generator for bench inputs (not the simulator's streams).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Exponential with mean `mean`.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

/// The payload the engine keeps per event is an enum of about 12 bytes; mimic its size.
type Payload = [u32; 3];

fn parse(text: &str, origin: &str) -> Model {
    microsim::parse(text, origin).unwrap_or_else(|e| panic!("{origin}: {e}"))
}

fn load(file: &str) -> Model {
    let path = format!("{}/topologies/{file}", env!("CARGO_MANIFEST_DIR"));
    microsim::load(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Run options: no warm-up (so `offered` counts every request) and the given duration.
fn options(duration: SimDuration) -> RunOptions {
    RunOptions {
        seed: None,
        duration: Some(duration),
        warmup: Some(SimDuration::ZERO),
        drain: false,
        max_events_per_instant: None,
    }
}

/// Requests one run simulates (the same in every run: the seed is fixed), and its events.
fn requests_of(model: &Model, opts: &RunOptions) -> (u64, u64) {
    let report = model.run(opts).expect("the bench model runs");
    let offered = report.entries.iter().map(|e| e.offered).sum();
    (offered, report.events)
}

/// Benchmarks a whole run of `model`; throughput in simulated requests.
fn bench_run(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    model: &Model,
    duration: SimDuration,
) {
    let opts = options(duration);
    let (requests, events) = requests_of(model, &opts);
    eprintln!(
        "{name}: {requests} requests, {events} events per run ({:.2} events/request)",
        events as f64 / requests.max(1) as f64
    );
    group.throughput(Throughput::Elements(requests));
    group.bench_function(name, |b| {
        b.iter(|| black_box(model.run(black_box(&opts)).expect("runs")))
    });
}

// ---- (a) frequent operations ---------------------------------------------------------------

fn frequent(c: &mut Criterion) {
    let mut g = c.benchmark_group("frequent");
    g.throughput(Throughput::Elements(BATCH));

    // Hold model: a queue of `n` pending events; each operation pops the earliest and
    // schedules a new one an exponential time later (the steady state of a simulation).
    let mut rng = SplitMix(42);
    let increments: Vec<u64> = (0..4096).map(|_| rng.exp(1e6) as u64 + 1).collect();
    for n in [2usize, 64, 4_096, 262_144] {
        let mut q = EventQueue::<Payload>::new();
        for i in 0..n {
            let t = (rng.unit() * 1e6 * n as f64) as u64;
            q.schedule(SimTime(t), [i as u32, 0, 0]);
        }
        let mut k = 0usize;
        g.bench_with_input(BenchmarkId::new("queue_hold", n), &n, |b, _| {
            b.iter(|| {
                for _ in 0..BATCH {
                    let (t, e) = q.pop().expect("the queue is never empty");
                    k = (k + 1) & 4095;
                    q.schedule(SimTime(t.0 + increments[k]), black_box(e));
                }
            })
        });
    }

    // Latencies spread over 100 µs .. 1 s (log-uniform), as a service's histogram sees them.
    let values: Vec<u64> = (0..4096)
        .map(|_| (1e5 * 10f64.powf(4.0 * rng.unit())) as u64)
        .collect();
    for (name, sigfig) in [("histogram_record_3sf", 3u8), ("histogram_record_2sf", 2)] {
        let mut h = LatencyHistogram::with_precision(sigfig);
        // Grow the auto-resizing histogram first, so that resizing is not measured.
        h.record(10 * 1_000_000_000);
        let mut k = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                for _ in 0..BATCH {
                    k = (k + 1) & 4095;
                    h.record(black_box(values[k]));
                }
            })
        });
        black_box(h.count());
    }

    let dists = [
        ("exp", DistSpec::Exp { mean: "2ms".into() }),
        (
            "lognormal",
            DistSpec::LogNormal {
                median: Some("8ms".into()),
                p99: Some("60ms".into()),
                mean: None,
                cv: None,
            },
        ),
        (
            "gamma",
            DistSpec::Gamma {
                mean: "60ms".into(),
                cv: 0.5,
            },
        ),
        (
            "uniform",
            DistSpec::Uniform {
                min: "1ms".into(),
                max: "3ms".into(),
            },
        ),
        ("const", DistSpec::Const("1ms".into())),
        (
            "empirical",
            DistSpec::Empirical(
                ["1ms", "2ms", "3ms", "5ms", "8ms", "13ms", "21ms"]
                    .map(String::from)
                    .to_vec(),
            ),
        ),
    ];
    for (name, spec) in &dists {
        let d = microsim::model::distributions::compile_dist(spec).expect("valid distribution");
        let mut r = microsim::rng::stream(1, "bench", name, 0);
        g.bench_with_input(BenchmarkId::new("dist_sample", name), &d, |b, d| {
            b.iter(|| {
                let mut sum = 0u64;
                for _ in 0..BATCH {
                    sum = sum.wrapping_add(d.sample(&mut r).as_nanos());
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

// ---- (b) targeted behaviours ---------------------------------------------------------------

/// M/M/16 at ρ = 0.9 with a bounded queue (some rejections): the worker pool and its queue.
const POOL: &str = r#"Topology(
    name: "pool",
    run: (seed: 3),
    workload: [(name: "load", entry: "pool", arrivals: Poisson(per_second: 900))],
    services: {
        "pool": (workers: 16, queue: 32, work: Exp(mean: "16ms")),
    },
)"#;

/// One service fanning out to 8 callees in parallel, each with network latency.
const FANOUT: &str = r#"Topology(
    name: "fanout",
    run: (seed: 4),
    workload: [(name: "load", entry: "api", arrivals: Poisson(per_second: 500))],
    services: {
        "api": (replicas: 2, workers: 64, work: Exp(mean: "1ms"), steps: [
            Parallel(branches: [
                [Call(to: "s0", latency: Const("200us"))], [Call(to: "s1", latency: Const("200us"))],
                [Call(to: "s2", latency: Const("200us"))], [Call(to: "s3", latency: Const("200us"))],
                [Call(to: "s4", latency: Const("200us"))], [Call(to: "s5", latency: Const("200us"))],
                [Call(to: "s6", latency: Const("200us"))], [Call(to: "s7", latency: Const("200us"))],
            ]),
        ]),
        "s0": (workers: 8, work: Exp(mean: "2ms")),
        "s1": (workers: 8, work: Exp(mean: "2ms")),
        "s2": (workers: 8, work: Exp(mean: "2ms")),
        "s3": (workers: 8, work: Exp(mean: "2ms")),
        "s4": (workers: 8, work: Exp(mean: "2ms")),
        "s5": (workers: 8, work: Exp(mean: "2ms")),
        "s6": (workers: 8, work: Exp(mean: "2ms")),
        "s7": (workers: 8, work: Exp(mean: "2ms"), errors: 0.01),
    },
)"#;

/// A caller whose timeout cuts off a slow callee's tail: timeouts, orphaned work and
/// timeout events that find their call already answered (stale keys).
const TIMEOUTS: &str = r#"Topology(
    name: "timeouts",
    run: (seed: 5),
    workload: [(name: "load", entry: "front", arrivals: Poisson(per_second: 500), timeout: "1s")],
    services: {
        "front": (workers: 64, work: Exp(mean: "1ms"),
                  steps: [Call(to: "slow", timeout: "20ms")]),
        "slow": (replicas: 4, workers: 8, balancer: PowerOfTwo,
                 work: LogNormal(median: "8ms", p99: "80ms")),
    },
)"#;

fn behaviours(c: &mut Criterion) {
    let mut g = c.benchmark_group("behaviours");
    g.sampling_mode(SamplingMode::Flat);
    let cases = [
        // 900/s × 250 s ≈ 225k requests.
        ("pool_mm16_rho0.9_queue32", POOL, 250),
        // 500/s × 100 s ≈ 50k requests, 400k calls.
        ("fanout_parallel8", FANOUT, 100),
        // 500/s × 200 s ≈ 100k requests.
        ("call_timeouts", TIMEOUTS, 200),
    ];
    for (name, text, secs) in cases {
        let model = parse(text, name);
        bench_run(&mut g, name, &model, SimDuration::from_secs(secs));
    }
    g.finish();
}

// ---- (c) whole topologies ------------------------------------------------------------------

/// A 20-service synchronous call tree, generated from `seed`: each service calls its children
/// in sequence, in `Parallel` groups or through a `Choice`, some with a probability or a network
/// latency; local work is `Exp` or `LogNormal`. The same seed always gives the same text.
fn random_tree(n: usize, seed: u64, per_second: f64) -> String {
    let mut rng = SplitMix(seed);
    let mut children = vec![Vec::new(); n];
    for i in 1..n {
        // A random recursive tree: depth ≈ ln 20 ≈ 3 on average, 5–6 at most.
        let parent = rng.below(i);
        children[parent].push(i);
    }
    let call = |rng: &mut SplitMix, to: usize| {
        let mut s = format!("Call(to: \"svc{to:02}\", timeout: \"2s\"");
        if rng.unit() < 0.3 {
            s += ", latency: Const(\"200us\")";
        }
        if rng.unit() < 0.3 {
            let p = 0.5 + 0.5 * rng.unit();
            write!(s, ", probability: {p:.2}").unwrap();
        }
        s + ")"
    };
    let mut services = String::new();
    let mut groups = 0usize;
    for (i, kids) in children.iter().enumerate() {
        let work = if rng.unit() < 0.5 {
            format!("Exp(mean: \"{}us\")", 200 + rng.below(1_800))
        } else {
            let median = 200 + rng.below(1_000);
            format!(
                "LogNormal(median: \"{median}us\", p99: \"{}us\")",
                median * 5
            )
        };
        let mut steps = Vec::new();
        let mut rest = kids.as_slice();
        while !rest.is_empty() {
            let take = (1 + rng.below(3)).min(rest.len());
            let (group, tail) = rest.split_at(take);
            rest = tail;
            // Groups of two or more take turns: Parallel, Choice, a plain sequence.
            let kind = if group.len() >= 2 { groups % 3 } else { 2 };
            groups += usize::from(group.len() >= 2);
            if kind == 0 {
                let branches: Vec<String> = group
                    .iter()
                    .map(|&k| format!("[{}]", call(&mut rng, k)))
                    .collect();
                steps.push(format!("Parallel(branches: [{}])", branches.join(", ")));
            } else if kind == 1 {
                let branches: Vec<String> = group
                    .iter()
                    .map(|&k| {
                        let w = 1 + rng.below(4);
                        format!("(weight: {w}, steps: [{}])", call(&mut rng, k))
                    })
                    .collect();
                steps.push(format!("Choice(branches: [{}])", branches.join(", ")));
            } else {
                steps.extend(group.iter().map(|&k| call(&mut rng, k)));
            }
        }
        writeln!(
            services,
            "        \"svc{i:02}\": (replicas: 2, workers: 64, work: {work}, errors: 0.001, \
             steps: [{}]),",
            steps.join(", ")
        )
        .unwrap();
    }
    format!(
        "Topology(\n    name: \"tree{n}\",\n    run: (seed: 11),\n    workload: [(name: \"users\", \
         entry: \"svc00\", arrivals: Poisson(per_second: {per_second}))],\n    services: {{\n\
         {services}    }},\n)\n"
    )
}

fn topologies(c: &mut Criterion) {
    let mut g = c.benchmark_group("topologies");
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(4));

    // λ = 800/s, so 1250 s of simulated time is λ·duration = 1,000,000 requests (expected).
    let mm1 = load("mm1.ron");
    bench_run(&mut g, "mm1_rho0.8_1M", &mm1, SimDuration::from_secs(1_250));

    // 200/s × 1000 s = 200k requests, 1M jobs.
    let chain5 = load("chain5.ron");
    bench_run(
        &mut g,
        "chain5_200k",
        &chain5,
        SimDuration::from_secs(1_000),
    );

    // 1000/s × 50 s = 50k requests into a 20-service tree.
    let text = random_tree(20, 2024, 1_000.0);
    if std::env::var_os("MICROSIM_BENCH_PRINT_TREE").is_some() {
        eprintln!("{text}");
    }
    let tree = parse(&text, "<tree20>");
    bench_run(&mut g, "tree20_50k", &tree, SimDuration::from_secs(50));

    // The resilience-heavy worst case: a retry storm (three retrying layers, timeouts,
    // orphaned work) over its whole 10 min: 70/s × 600 s = 42k requests, ~25 db attempts each
    // once the storm runs.
    let storm = load("retry-storm.ron");
    let storm_duration = storm.run_config().duration;
    bench_run(&mut g, "retry_storm_42k", &storm, storm_duration);

    // Work-queue networks (the reference models M2 and M3 of docs/semantics.md): 1000/s × 200 s
    // = 200k customers.
    let m2 = load("m2.ron");
    bench_run(&mut g, "m2_tandem_200k", &m2, SimDuration::from_secs(200));
    let m3 = load("m3.ron");
    bench_run(&mut g, "m3_jackson_200k", &m3, SimDuration::from_secs(200));

    // A high-rate topic: 100,000 messages/s for 10 s = 1M messages through 16 partitions.
    let firehose = parse(&firehose(None), "<firehose>");
    bench_run(
        &mut g,
        "topic_100k_per_s_1M",
        &firehose,
        SimDuration::from_secs(10),
    );
    g.finish();
}

/// A producer publishing 100,000 messages/s to a 16-partition topic whose 16 consumers keep up
/// (ρ = 0.625 per partition); with `outage` = (from, to) in seconds, the consumers are down
/// meanwhile and the backlog grows by 100,000 messages a second (the memory check in
/// `benches/compare.sh` runs both).
fn firehose(outage: Option<(u32, u32)>) -> String {
    let faults = match outage {
        Some((from, to)) => format!(
            r#"faults: [(at: "{from}s", lasts: "{}s", fault: Crash(service: "indexer"))],"#,
            to - from
        ),
        None => String::new(),
    };
    format!(
        r#"Topology(
    name: "firehose",
    workload: [(name: "events", entry: "ingest", arrivals: Poisson(per_second: 100000))],
    services: {{
        "ingest": (workers: 64, steps: [Publish(topic: "events")]),
        "indexer": (replicas: 16, workers: 1, work: Exp(mean: "100us")),
    }},
    topics: {{ "events": (partitions: 16, subscribers: [(service: "indexer", consumers: 16)]) }},
    {faults}
)"#
    )
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// What `criterion_group!`/`criterion_main!` would generate, written out so that it is
/// documented (the crate denies `missing_docs` warnings in CI).
fn main() {
    let mut c = config().configure_from_args();
    frequent(&mut c);
    behaviours(&mut c);
    topologies(&mut c);
    c.final_summary();
}

//! Lesson: utilization and latency — the hockey stick of a queue.
//!
//! One service with one worker serves requests in 1 ms on average (exponential): an M/M/1
//! queue with μ = 1000/s. Its mean time in system is W = 1 / (μ − λ): 1.1 ms at 10 % load,
//! 2 ms at 50 %, 10 ms at 90 %. Latency stays flat, then shoots up as the load nears the
//! capacity: the hockey stick. The program sweeps the arrival rate from 100/s to 900/s,
//! prints the simulated mean beside the formula, and finds the knee of a latency target
//! (p99 ≤ 10 ms): the p99 of M/M/1 is ln(100) / (μ − λ), which passes 10 ms above λ ≈ 540/s.
//!
//! Run it: `cargo run --example hockey_stick`. Try: two workers at half the speed each
//! (`workers(2)`, `Exp::mean_ms(2)`), or a constant service time (`Const::ms(1)`): which
//! flattens the stick, and by how much?

use microsim::builder::{Entry, Exp, Poisson, Service, Topology};
use microsim::experiment::{run, Arm, Axis, Plan, Target};

/// One point of the sweep.
pub struct Point {
    /// Arrival rate [requests/s].
    pub rate: f64,
    /// Utilization λ / μ.
    pub utilization: f64,
    /// Simulated mean time in system [ms], mean of the replications.
    pub simulated_ms: f64,
    /// Half-width of its 95 % interval [ms].
    pub half_width_ms: f64,
    /// Standard error of the mean [ms].
    pub se_ms: f64,
    /// The M/M/1 formula, 1 / (μ − λ) [ms].
    pub theory_ms: f64,
}

/// What the lesson measured.
pub struct HockeyStick {
    /// The sweep, by rate.
    pub points: Vec<Point>,
    /// The first rate where p99 ≤ 10 ms breaks, and the last where it holds.
    pub knee: (Option<String>, Option<String>),
}

/// Service rate [requests/s].
const MU: f64 = 1000.0;

/// Runs the lesson: 9 rates, 5 replications of 30 s each.
pub fn lesson() -> Result<HockeyStick, Box<dyn std::error::Error>> {
    let model = Topology::new("mm1")
        .duration("30s")
        .warmup("3s")
        .entry(Entry::service("main", "server", Poisson::per_second(100)))
        .service("server", Service::new().work(Exp::mean_ms(1000.0 / MU)))
        .build()?;
    let plan = Plan {
        arms: vec![Arm {
            name: "mm1".into(),
            model,
        }],
        axes: vec![Axis::parse(
            "workload[main].arrivals.per_second=100..900:100",
        )?],
        reps: 5,
        master_seed: 1,
        options: Default::default(),
        targets: vec![Target::parse("p99<=10ms")?],
        recovery: Default::default(),
    };
    let result = run(&plan)?;
    let mut points = Vec::new();
    for cell in &result.cells {
        let rate: f64 = cell.point[0].parse()?;
        let w = cell
            .metric("entries[main].latency.mean_ms")
            .ok_or("no latency")?;
        points.push(Point {
            rate,
            utilization: rate / MU,
            simulated_ms: w.mean,
            half_width_ms: w.half_width().unwrap_or(f64::NAN),
            se_ms: w.sd / (w.n as f64).sqrt(),
            theory_ms: 1000.0 / (MU - rate),
        });
    }
    let knee = &result.knees[0];
    Ok(HockeyStick {
        points,
        knee: (knee.breaks_at.clone(), knee.last_holds.clone()),
    })
}

/// The lesson's result as the program prints it.
pub fn describe(h: &HockeyStick) -> String {
    let mut out = String::from("  rate/s  util  simulated W (ms)     M/M/1 W (ms)\n");
    for p in &h.points {
        out += &format!(
            "  {:6.0}  {:4.2}  {:7.3} ± {:<7.3}  {:8.3}\n",
            p.rate, p.utilization, p.simulated_ms, p.half_width_ms, p.theory_ms
        );
    }
    out += &format!(
        "p99 <= 10 ms holds up to {}/s and breaks at {}/s (theory: 540/s)",
        h.knee.1.as_deref().unwrap_or("none"),
        h.knee.0.as_deref().unwrap_or("never")
    );
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", describe(&lesson()?));
    Ok(())
}

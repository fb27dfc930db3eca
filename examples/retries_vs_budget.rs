//! Lesson: retries at every layer turn a short slowdown into an outage; a retry budget does
//! not.
//!
//! Clients call `front`, which calls `mid`, which calls `back`, which queries `db`; every call
//! has a 300 ms timeout and retries any failure up to 3 attempts, so one client request may
//! become 3 × 3 × 3 = 27 database queries. The database serves 100 queries/s and gets 70.
//! From 30 s to 45 s it runs at half speed: its queue passes the timeout, every layer gives up
//! and retries, and the retries keep it overloaded after the slowdown has ended — a metastable
//! failure: availability stays at zero although the trigger is gone. The variant `budget` adds
//! a gRPC-style retry budget to every call (a bucket of 10 tokens per caller replica, a
//! failure costs one, a success earns 0.1): when most attempts fail the callers stop retrying,
//! and the database recovers within seconds of the slowdown's end.
//!
//! Run it: `cargo run --example retries_vs_budget`. Try: backoff with jitter instead of a
//! budget (`Retry::attempts(3).backoff(Backoff::exponential_ms(50, 1000)).jitter(Jitter::Full)`),
//! or retries at the front only.

use microsim::builder::{Budget, Call, Entry, Exp, Fault, Gamma, Poisson, Retry, RetryOn};
use microsim::builder::{Service, Topology};
use microsim::experiment::{run, Arm, Plan};

/// What one arm measured.
pub struct Arm2 {
    /// The arm's name.
    pub name: String,
    /// Availability of the clients' requests in the last 30 s of the run (long after the
    /// slowdown), all replications pooled.
    pub after: f64,
    /// Database queries per client request over the run (mean of the replications).
    pub amplification: f64,
}

/// The storm: three layers of retries in front of a database, slowed from 30 s to 45 s.
pub fn storm() -> Topology {
    let retry = Retry::attempts(3).on([RetryOn::Error, RetryOn::Timeout, RetryOn::Rejected]);
    let budgeted = retry.clone().budget(Budget::token_bucket(10.0, 0.1));
    let layer = |next: &str| {
        Service::new()
            .replicas(2)
            .workers(200)
            .queue(100)
            .work(Exp::mean_ms(1))
            .call(next, Call::new().timeout_ms(300).retry(retry.clone()))
    };
    Topology::new("retry-storm")
        .duration("100s")
        .warmup("10s")
        .entry(Entry::service("clients", "front", Poisson::per_second(70)))
        .service("front", layer("mid"))
        .service("mid", layer("back"))
        .service("back", layer("db"))
        .service(
            "db",
            Service::new()
                .workers(4)
                .queue(50)
                .work(Gamma::mean_cv_ms(40, 0.5)),
        )
        .fault("30s", "15s", Fault::slowdown("db", 2.0))
        .variant(
            "budget",
            ["front", "mid", "back"]
                .map(|s| format!("services[{s}].steps[0].retry={}", budgeted.to_ron())),
        )
}

/// Runs the lesson: the storm and its `budget` variant, 4 replications each.
pub fn lesson() -> Result<Vec<Arm2>, Box<dyn std::error::Error>> {
    let model = storm().build()?;
    let plan = Plan {
        arms: vec![
            Arm {
                name: "retries".into(),
                model: model.clone(),
            },
            Arm {
                name: "budget".into(),
                model: model.variant("budget")?,
            },
        ],
        axes: vec![],
        reps: 4,
        master_seed: 1,
        options: Default::default(),
        targets: vec![],
        recovery: Default::default(),
    };
    let result = run(&plan)?;
    let mut out = Vec::new();
    for cell in &result.cells {
        let t = &cell.timeline[0];
        let last = t.ok.len().saturating_sub(30);
        let ok: u64 = t.ok[last..].iter().sum();
        let answered: u64 = t.answered[last..].iter().sum();
        let queries = cell
            .metric("calls[back → db].attempts")
            .ok_or("no attempts")?
            .mean;
        let clients = cell
            .metric("entries[clients].offered")
            .ok_or("no offered")?
            .mean;
        out.push(Arm2 {
            name: cell.arm.clone(),
            after: ok as f64 / answered as f64,
            amplification: queries / clients,
        });
    }
    Ok(out)
}

/// The lesson's result as the program prints it.
pub fn describe(arms: &[Arm2]) -> String {
    let mut out = String::from(
        "15 s of database slowness (30s to 45s), retries at three layers:\n  arm       availability 70s–100s   db queries per request\n",
    );
    for a in arms {
        out += &format!(
            "  {:8}  {:22.3}  {:22.1}\n",
            a.name, a.after, a.amplification
        );
    }
    out.trim_end().to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", describe(&lesson()?));
    Ok(())
}

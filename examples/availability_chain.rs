//! Lesson: the availability of a chain of synchronous calls.
//!
//! Five services call each other in a chain, each failing 1 % of its requests on its own. A
//! request succeeds only when all five do, so the chain is available 0.99⁵ ≈ 0.951 of the time:
//! five "two nines" services give barely more than one nine. The program builds the chain with
//! the builder, runs 10 independent replications, and prints the simulated availability with
//! its 95 % interval beside the analytic product.
//!
//! Run it: `cargo run --example availability_chain`. Try: more services, another error rate,
//! a retry on one call (`Call::new().retry(Retry::attempts(3))`) — what does it do to the
//! product, and why does the analytic shadow still agree?

use microsim::builder::{Call, Entry, Exp, Poisson, Service, Topology};
use microsim::experiment::{run, Arm, Plan};

/// What the lesson measured.
pub struct Chain {
    /// Services in the chain.
    pub services: usize,
    /// The availability product, from the model alone.
    pub analytic: f64,
    /// The simulated availability, mean of the replications.
    pub simulated: f64,
    /// Its 95 % confidence interval across replications.
    pub ci: [f64; 2],
    /// Its standard error (standard deviation of the replications / √n).
    pub se: f64,
}

/// Builds a chain of `n` services, each failing 1 % of its requests, fed 200 requests/s.
pub fn chain(n: usize) -> Topology {
    let mut t = Topology::new("chain")
        .duration("60s")
        .warmup("5s")
        .entry(Entry::service("users", "s1", Poisson::per_second(200)));
    for i in 1..=n {
        let mut s = Service::new().workers(8).work(Exp::mean_ms(1)).errors(0.01);
        if i < n {
            s = s.call(format!("s{}", i + 1), Call::new());
        }
        t = t.service(format!("s{i}"), s);
    }
    t
}

/// Runs the lesson: 5 services, 10 replications.
pub fn lesson() -> Result<Chain, Box<dyn std::error::Error>> {
    let services = 5;
    let model = chain(services).build()?;
    let analytic = model.analyze().entries[0].availability;
    let plan = Plan {
        arms: vec![Arm {
            name: "chain".into(),
            model,
        }],
        axes: vec![],
        reps: 10,
        master_seed: 1,
        options: Default::default(),
        targets: vec![],
        recovery: Default::default(),
    };
    let result = run(&plan)?;
    let a = result.cells[0]
        .metric("entries[users].availability")
        .ok_or("no availability")?;
    Ok(Chain {
        services,
        analytic,
        simulated: a.mean,
        ci: a.ci.ok_or("no interval")?,
        se: a.sd / (a.n as f64).sqrt(),
    })
}

/// The lesson's result as the program prints it.
pub fn describe(c: &Chain) -> String {
    format!(
        "{} services at 99 % each, in a chain of sync calls:\n  analytic product  0.99^{} = {:.4}\n  simulated         {:.4}  (95 % interval {:.4} .. {:.4}, 10 replications)",
        c.services, c.services, c.analytic, c.simulated, c.ci[0], c.ci[1]
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", describe(&lesson()?));
    Ok(())
}

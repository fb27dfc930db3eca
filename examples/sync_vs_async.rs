//! Lesson: one flow, synchronous or with an event — availability, latency, coupling, lag.
//!
//! A sign-up service must tell three others: e-mail, analytics and a cache. The synchronous
//! version calls all three and waits; the asynchronous one publishes one event, `signed-up`,
//! and each service consumes it in its own consumer group. E-mail crashes from 60 s to 90 s.
//! Synchronously, every sign-up fails while e-mail is down: availability over the measured
//! 175 s is 1 − 30/175 ≈ 0.83, and a sign-up takes the sum of three calls. With the event,
//! every sign-up succeeds and takes only the publish; e-mail falls behind instead — its lag
//! grows to about 50/s × 30 s = 1,500 messages — and catches up once it is back.
//!
//! Run it: `cargo run --example sync_vs_async`. Try: make the e-mail call optional
//! (`Call::new().ignore_failure()`) in the synchronous version: what does it cost, and what
//! does it still not fix?

use microsim::builder::{Call, Entry, Exp, Fault, Poisson, Publish, Service, Subscriber};
use microsim::builder::{Topic, Topology};
use microsim::{Model, RunOptions};

/// What one version measured (one run, the topology's seed).
pub struct Version {
    /// `sync` or `async`.
    pub name: &'static str,
    /// Availability of the sign-ups.
    pub availability: f64,
    /// Median latency of a sign-up [ms].
    pub p50_ms: f64,
    /// E-mail's largest backlog (messages not yet processed); 0 for the sync version.
    pub max_lag: u64,
    /// E-mail's backlog at the end of the run.
    pub lag_at_end: u64,
}

/// The three downstream services and the e-mail outage, shared by both versions.
fn common(name: &str) -> Topology {
    let downstream = |ms: f64| Service::new().replicas(2).workers(4).work(Exp::mean_ms(ms));
    Topology::new(name)
        .duration("3m")
        .warmup("5s")
        .seed(21)
        .entry(Entry::service(
            "signups",
            "accounts",
            Poisson::per_second(50),
        ))
        .service("email", downstream(20.0))
        .service("analytics", downstream(5.0))
        .service("cache", downstream(1.0))
        .fault("60s", "30s", Fault::crash("email"))
}

/// The synchronous version: the account service calls the three and waits.
pub fn sync() -> Result<Model, microsim::LoadError> {
    let accounts = Service::new()
        .replicas(2)
        .workers(16)
        .work(Exp::mean_ms(3))
        .call("email", Call::new().timeout("1s"))
        .call("analytics", Call::new().timeout("1s"))
        .call("cache", Call::new().timeout("1s"));
    common("sync").service("accounts", accounts).build()
}

/// The asynchronous version: the account service publishes one event.
pub fn events() -> Result<Model, microsim::LoadError> {
    let accounts = Service::new()
        .replicas(2)
        .workers(16)
        .work(Exp::mean_ms(3))
        .publish("signed-up", Publish::new());
    let topic = ["email", "analytics", "cache"]
        .into_iter()
        .fold(Topic::new().partitions(4), |t, s| {
            t.subscriber(Subscriber::new(s).consumers(4))
        });
    common("async")
        .service("accounts", accounts)
        .topic("signed-up", topic)
        .build()
}

/// Runs both versions once.
pub fn lesson() -> Result<Vec<Version>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for (name, model) in [("sync", sync()?), ("async", events()?)] {
        let r = model.run(&RunOptions::default())?;
        let e = r.entry("signups").ok_or("no entry")?;
        let email = r.group("signed-up", "email");
        out.push(Version {
            name,
            availability: e.availability,
            p50_ms: e.latency.p50_ms,
            max_lag: email.map_or(0, |g| g.max_lag),
            lag_at_end: email.map_or(0, |g| g.lag),
        });
    }
    Ok(out)
}

/// The lesson's result as the program prints it.
pub fn describe(versions: &[Version]) -> String {
    let mut out = String::from(
        "Sign-ups with e-mail down from 60s to 90s:\n  version  availability  p50 ms  e-mail max lag  lag at end\n",
    );
    for v in versions {
        out += &format!(
            "  {:7}  {:12.3}  {:6.1}  {:14}  {:10}\n",
            v.name, v.availability, v.p50_ms, v.max_lag, v.lag_at_end
        );
    }
    out.trim_end().to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("{}", describe(&lesson()?));
    Ok(())
}

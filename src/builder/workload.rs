//! Entry points and their open-loop arrival processes.

use super::{ms, IntoDuration};
use crate::spec::{ArrivalSpec, EntrySpec, RatePointSpec};

/// An entry point: a named stream of requests into a service, or of messages producers
/// outside the topology publish to a topic or send to a queue.
#[derive(Clone, Debug)]
pub struct Entry(EntrySpec);

impl Entry {
    fn spec(name: String, arrivals: Arrivals) -> EntrySpec {
        EntrySpec {
            name,
            entry: None,
            publish: None,
            send: None,
            arrivals: arrivals.into(),
            timeout: None,
        }
    }

    /// Requests `arrivals` into service `service`.
    pub fn service(
        name: impl Into<String>,
        service: impl Into<String>,
        arrivals: Arrivals,
    ) -> Entry {
        let mut e = Entry::spec(name.into(), arrivals);
        e.entry = Some(service.into());
        Entry(e)
    }

    /// Messages published to topic `topic` (keyless: partitions in turn).
    pub fn publish(name: impl Into<String>, topic: impl Into<String>, arrivals: Arrivals) -> Entry {
        let mut e = Entry::spec(name.into(), arrivals);
        e.publish = Some(topic.into());
        Entry(e)
    }

    /// Messages sent to work queue `queue`.
    pub fn send(name: impl Into<String>, queue: impl Into<String>, arrivals: Arrivals) -> Entry {
        let mut e = Entry::spec(name.into(), arrivals);
        e.send = Some(queue.into());
        Entry(e)
    }

    /// How long the client waits before it gives up (`timeout`); default forever.
    pub fn timeout(mut self, d: impl IntoDuration) -> Self {
        self.0.timeout = Some(d.into_duration());
        self
    }

    /// How long the client waits, in milliseconds.
    pub fn timeout_ms(self, value: impl Into<f64>) -> Self {
        self.timeout(ms(value))
    }
}

impl From<Entry> for EntrySpec {
    fn from(e: Entry) -> EntrySpec {
        e.0
    }
}

/// Poisson arrivals (exponential gaps): `Poisson::per_second(200)`.
#[derive(Debug)]
pub enum Poisson {}

impl Poisson {
    /// A Poisson process of `rate` requests per second, with no profile yet.
    pub fn per_second(rate: impl Into<f64>) -> Arrivals {
        Arrivals {
            poisson: true,
            rate: rate.into(),
            profile: Vec::new(),
        }
    }
}

/// Evenly spaced arrivals, `1 / rate` apart: `Constant::per_second(10)`.
#[derive(Debug)]
pub enum Constant {}

impl Constant {
    /// Arrivals `1 / rate` seconds apart, with no profile yet.
    pub fn per_second(rate: impl Into<f64>) -> Arrivals {
        Arrivals {
            poisson: false,
            rate: rate.into(),
            profile: Vec::new(),
        }
    }
}

/// An arrival process with its rate profile: `Poisson::per_second(150).step_at("1m", 400)
/// .step_at("2m", 150)` is a spike from the first to the second minute.
#[derive(Clone, Debug)]
pub struct Arrivals {
    poisson: bool,
    rate: f64,
    profile: Vec<RatePointSpec>,
}

impl Arrivals {
    /// From time `at` on (since the start of the run), `rate` per second.
    pub fn step_at(mut self, at: impl IntoDuration, rate: impl Into<f64>) -> Self {
        self.profile.push(RatePointSpec {
            at: at.into_duration(),
            per_second: rate.into(),
            ramp: false,
        });
        self
    }

    /// The rate goes linearly from the previous point's to `rate`, reached at `at`.
    pub fn ramp_to(mut self, at: impl IntoDuration, rate: impl Into<f64>) -> Self {
        self.profile.push(RatePointSpec {
            at: at.into_duration(),
            per_second: rate.into(),
            ramp: true,
        });
        self
    }
}

impl From<Arrivals> for ArrivalSpec {
    fn from(a: Arrivals) -> ArrivalSpec {
        if a.poisson {
            ArrivalSpec::Poisson {
                per_second: a.rate,
                profile: a.profile,
            }
        } else {
            ArrivalSpec::Constant {
                per_second: a.rate,
                profile: a.profile,
            }
        }
    }
}

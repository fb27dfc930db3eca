//! Faults: a scripted timeline of injected failures, and per-replica failure and repair
//! processes for long-horizon availability.
//!
//! This module owns three things, none of which knows the engine:
//! 1. the **spec types** as written in a topology file ([`FaultSpec`], [`FailureSpec`]);
//! 2. their **validation and compilation** into plain data ([`compile_faults`] → [`Fault`],
//!    [`compile_failures`] → [`FailureProcess`]), reporting every problem with a path such as
//!    `faults[3].fault.factor` and a message that quotes the value and says what to do;
//! 3. the **samplers and accounting** the engine drives: [`Renewal`] (the up/down life of one
//!    replica, an alternating renewal process) and [`UpTime`] (time-based availability of one
//!    service in O(1) memory).
//!
//! # In a topology file
//! ```text
//! faults: [
//!     (at: "3m",  lasts: "60s", fault: Slowdown(service: "inventory", factor: 10.0)),
//!     (at: "6m",  lasts: "45s", fault: Crash(service: "payment", replicas: 1)),
//!     (at: "8m",  lasts: "30s", fault: Hang(service: "payment")),
//!     (at: "9m",  lasts: "20s", fault: ErrorBurst(service: "inventory", errors: 0.5)),
//!     (at: "10m", lasts: "20s", fault: Partition(from: "gateway", to: "payment")),
//!     (at: "11m", lasts: "20s", fault: Latency(from: "gateway", to: "inventory", add: Const("200ms"))),
//! ]
//! // in a service:
//! failures: (mttf: "4h", mttr: "3m"),
//! failures: (mttf: "4h", repair: LogNormal(median: "2m", p99: "20m")),
//! ```
//! `at` is measured from the start of the run (warm-up included); the fault is active on
//! `[at, at + lasts)`. Service faults take an optional `replicas: k` (default: every replica),
//! which affects the replicas with the `k` lowest indices, `0..k`.
//!
//! # Failure processes
//! Each replica of a service with `failures` alternates independently between *up* for a time
//! to failure and *down* for a time to repair. `mttf`/`mttr` give exponential times with those
//! means; `failure`/`repair` give any distribution instead (each time is given once: `mttf`
//! *or* `failure`, `mttr` *or* `repair`). Per replica, the long-run fraction of time up is
//! A = MTTF/(MTTF + MTTR) whatever the distributions (docs/semantics.md, *Availability*), and a
//! service is up (time-based) when at least one replica is: 1 − (1 − A)ⁿ for n independent
//! replicas.
//! A replica that is down behaves as if [crashed](FaultKind::Crash).
//!
//! # Composing faults
//! Faults may overlap, with each other and with failure processes; their effects combine:
//! a replica is crashed while any crash or failure covers it, and a crash wins over a hang;
//! slowdown factors multiply; error probabilities combine as independent causes,
//! 1 − Π(1 − pᵢ) (the service's own `errors` included); an edge is cut while any partition on
//! it is active; extra latencies add up.

use crate::dist::Dist;
use crate::model::{did_you_mean, ServiceId};
use crate::rng::SimRng;
use crate::spec::DistSpec;
use crate::time::{parse_duration, SimDuration, SimTime};
use rand::Rng;
use rand_distr::{Distribution, Gamma, LogNormal};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Spec types: the file as written.
// ---------------------------------------------------------------------------------------------

/// One entry of the top-level `faults` list: what goes wrong, when and for how long.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When the fault begins, from the start of the run (warm-up included), e.g. `"3m"`.
    pub at: String,
    /// How long it lasts, > 0, e.g. `"60s"`. A fault may run past the end of the run.
    pub lasts: String,
    /// What goes wrong.
    pub fault: FaultKindSpec,
}

/// What goes wrong during a [`FaultSpec`]. Service names are resolved when the model is
/// compiled; see [`FaultKind`] for the exact effect of each.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultKindSpec {
    /// Replicas stop: calls to them are refused at once (`unavailable`).
    Crash {
        /// The service.
        service: String,
        /// How many replicas (the lowest indices); default all.
        #[serde(default)]
        replicas: Option<u32>,
    },
    /// Replicas accept requests and never answer: callers wait until their timeout.
    Hang {
        /// The service.
        service: String,
        /// How many replicas (the lowest indices); default all.
        #[serde(default)]
        replicas: Option<u32>,
    },
    /// Replicas do their local work `factor` times slower.
    Slowdown {
        /// The service.
        service: String,
        /// Multiplier of work times, finite and > 0 (10.0 = ten times slower).
        factor: f64,
        /// How many replicas (the lowest indices); default all.
        #[serde(default)]
        replicas: Option<u32>,
    },
    /// Replicas fail requests with probability `errors` (besides the service's own errors).
    ErrorBurst {
        /// The service.
        service: String,
        /// Probability that a request ends in an error, in \[0, 1\].
        errors: f64,
        /// How many replicas (the lowest indices); default all.
        #[serde(default)]
        replicas: Option<u32>,
    },
    /// The network between two services drops every message: calls `from` → `to` get no
    /// answer until the caller's timeout.
    Partition {
        /// The calling service.
        from: String,
        /// The called service.
        to: String,
    },
    /// Extra one-way latency on the calls `from` → `to`, on the request and on the response.
    Latency {
        /// The calling service.
        from: String,
        /// The called service.
        to: String,
        /// The extra latency, sampled for each message.
        add: DistSpec,
    },
    /// The whole broker is down: publishes and sends cannot be acknowledged (the producers
    /// fail, wait or buffer, as their steps' `when_down` says) and consumers get nothing.
    BrokerDown,
    /// The leader of one partition of a topic is down: messages keyed to it cannot be
    /// published, keyless ones go to the other partitions, and its consumers get nothing
    /// from it.
    LeaderDown {
        /// The topic.
        topic: String,
        /// The partition, from 0.
        partition: u32,
    },
    /// The broker is slow: every publish and send waits an extra sample of `add` for its
    /// acknowledgement.
    BrokerSlow {
        /// The extra latency, sampled for each publish.
        add: DistSpec,
    },
}

/// A service's `failures`: each replica independently fails and is repaired, forever.
///
/// Give the time to failure once (`mttf` or `failure`) and the time to repair once (`mttr` or
/// `repair`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    /// Mean time to failure of one replica, e.g. `"4h"`: exponential times to failure.
    #[serde(default)]
    pub mttf: Option<String>,
    /// Mean time to repair, e.g. `"3m"`: exponential repair times.
    #[serde(default)]
    pub mttr: Option<String>,
    /// The distribution of times to failure, instead of `mttf`.
    #[serde(default)]
    pub failure: Option<DistSpec>,
    /// The distribution of repair times, instead of `mttr`, e.g.
    /// `LogNormal(median: "2m", p99: "20m")`.
    #[serde(default)]
    pub repair: Option<DistSpec>,
}

// ---------------------------------------------------------------------------------------------
// Compiled faults.
// ---------------------------------------------------------------------------------------------

/// The effect of a compiled [`Fault`] while it is active. Service faults name the affected
/// replicas as a count `k` of the lowest indices (`0..k`); `None` is every replica (see
/// [`FaultKind::affects_replica`]).
#[derive(Clone, Debug)]
pub enum FaultKind {
    /// The replicas are down: a call routed to one fails at once with `unavailable`
    /// (connection refused), and the requests inside it when it crashes are lost, failing
    /// their callers with `unavailable` too. The balancer does not know (no health checks).
    Crash {
        /// The service.
        service: ServiceId,
        /// Affected replicas, the lowest indices; `None` = all.
        replicas: Option<u32>,
    },
    /// The replicas accept requests and never answer: a request that reaches one while the
    /// fault is active takes no worker and no queue place and gets no response, so its
    /// caller waits until its timeout (forever without one). Requests already inside finish
    /// normally; after the fault the replica answers new requests again.
    Hang {
        /// The service.
        service: ServiceId,
        /// Affected replicas, the lowest indices; `None` = all.
        replicas: Option<u32>,
    },
    /// Local work sampled on the replicas while the fault is active takes `factor` times as
    /// long (the `work` of the service and its `Work` steps; not the calls it makes).
    Slowdown {
        /// The service.
        service: ServiceId,
        /// Multiplier of work times, finite and > 0.
        factor: f64,
        /// Affected replicas, the lowest indices; `None` = all.
        replicas: Option<u32>,
    },
    /// A request that the replicas finish while the fault is active ends in an error with
    /// probability `errors`, independently of the service's own error probability.
    ErrorBurst {
        /// The service.
        service: ServiceId,
        /// Probability of an error, in \[0, 1\].
        errors: f64,
        /// Affected replicas, the lowest indices; `None` = all.
        replicas: Option<u32>,
    },
    /// Every message that would cross the edge `from` → `to` while the fault is active
    /// (requests of the calls from `from` to `to`, and their responses) is lost: the caller
    /// waits until its timeout.
    Partition {
        /// The calling service.
        from: ServiceId,
        /// The called service.
        to: ServiceId,
    },
    /// Each message sent along `from` → `to` while the fault is active (request, and response
    /// on the way back) is delayed by an extra sample of `add`, on top of the call's own
    /// `latency`.
    Latency {
        /// The calling service.
        from: ServiceId,
        /// The called service.
        to: ServiceId,
        /// The extra one-way latency.
        add: Dist,
    },
    /// The broker is down: no publish or send is acknowledged and consumers get nothing.
    BrokerDown,
    /// Partition `partition` of topic `topic` (an index into the model's topics) has no
    /// leader: nothing is published to it or consumed from it.
    LeaderDown {
        /// Index of the topic.
        topic: u32,
        /// The partition.
        partition: u32,
    },
    /// Every publish and send waits an extra sample of `add` for its acknowledgement.
    BrokerSlow {
        /// The extra latency.
        add: Dist,
    },
}

impl FaultKind {
    /// Whether the fault acts on replica `replica` of service `service` (always false for
    /// the edge faults, `Partition` and `Latency`, and the broker's).
    pub fn affects_replica(&self, service: ServiceId, replica: u32) -> bool {
        match self {
            FaultKind::Crash {
                service: s,
                replicas,
            }
            | FaultKind::Hang {
                service: s,
                replicas,
            }
            | FaultKind::Slowdown {
                service: s,
                replicas,
                ..
            }
            | FaultKind::ErrorBurst {
                service: s,
                replicas,
                ..
            } => *s == service && replicas.is_none_or(|k| replica < k),
            FaultKind::Partition { .. }
            | FaultKind::Latency { .. }
            | FaultKind::BrokerDown
            | FaultKind::LeaderDown { .. }
            | FaultKind::BrokerSlow { .. } => false,
        }
    }

    /// Whether the fault acts on the calls from `from` to `to` (only `Partition` and
    /// `Latency` do).
    pub fn affects_edge(&self, from: ServiceId, to: ServiceId) -> bool {
        match self {
            FaultKind::Partition { from: f, to: t } | FaultKind::Latency { from: f, to: t, .. } => {
                *f == from && *t == to
            }
            _ => false,
        }
    }
}

/// A compiled fault: `kind` is in effect on `[start, end)`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// When the fault begins (time since the start of the run).
    pub start: SimTime,
    /// When it ends (`start + lasts`, saturating); may lie beyond the end of the run.
    pub end: SimTime,
    /// What it does.
    pub kind: FaultKind,
    /// A short description for reports and charts, e.g. `crash payment (1 of 2)`,
    /// `slowdown inventory ×10`, `partition gateway → payment`.
    pub label: String,
}

/// What [`compile_faults`] checks fault specs against: the compiled services and call edges.
#[derive(Clone, Copy, Debug)]
pub struct FaultTargets<'a> {
    /// Name and replica count of every service, indexed by [`ServiceId`].
    pub services: &'a [(&'a str, u32)],
    /// Every sync call edge as (caller, callee); duplicates are fine. `Partition` and
    /// `Latency` faults must name one of them.
    pub calls: &'a [(ServiceId, ServiceId)],
    /// Length of the run, warm-up included; a fault must start before it ends.
    pub duration: SimDuration,
    /// Name and partition count of every topic, indexed as the model's topics.
    pub topics: &'a [(&'a str, u32)],
}

/// Validates and compiles the `faults` list. Every problem is pushed onto `problems` as
/// `(path, message)`, with paths like `faults[3].fault.factor`; the faults that passed are
/// returned, in file order (so the result is complete only when nothing was pushed).
pub fn compile_faults(
    specs: &[FaultSpec],
    targets: &FaultTargets<'_>,
    problems: &mut Vec<(String, String)>,
) -> Vec<Fault> {
    specs
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| compile_fault(spec, &format!("faults[{i}]"), targets, problems))
        .collect()
}

fn compile_fault(
    spec: &FaultSpec,
    path: &str,
    t: &FaultTargets<'_>,
    problems: &mut Vec<(String, String)>,
) -> Option<Fault> {
    let before = problems.len();
    let at = duration(&format!("{path}.at"), &spec.at, problems);
    if at.is_some_and(|at| at >= t.duration) {
        problems.push((
            format!("{path}.at"),
            format!(
                "the fault starts at \"{}\", at or after the end of the run ({}), so it would never happen; start it earlier or lengthen run.duration",
                spec.at, t.duration
            ),
        ));
    }
    let lasts = duration(&format!("{path}.lasts"), &spec.lasts, problems);
    if lasts == Some(SimDuration::ZERO) {
        problems.push((
            format!("{path}.lasts"),
            format!(
                "lasts: \"{}\" is no time at all, so the fault would never take effect; give a positive duration such as \"30s\"",
                spec.lasts
            ),
        ));
    }

    let fp = format!("{path}.fault");
    let name = |id: ServiceId| t.services[id.0 as usize].0;
    let kind_and_label = match &spec.fault {
        FaultKindSpec::Crash { service, replicas } => {
            service_fault(t, &fp, service, *replicas, problems).map(|(service, replicas, of)| {
                (
                    FaultKind::Crash { service, replicas },
                    format!("crash {}{of}", name(service)),
                )
            })
        }
        FaultKindSpec::Hang { service, replicas } => {
            service_fault(t, &fp, service, *replicas, problems).map(|(service, replicas, of)| {
                (
                    FaultKind::Hang { service, replicas },
                    format!("hang {}{of}", name(service)),
                )
            })
        }
        FaultKindSpec::Slowdown {
            service,
            factor,
            replicas,
        } => {
            let target = service_fault(t, &fp, service, *replicas, problems);
            if !factor.is_finite() || *factor <= 0.0 {
                problems.push((
                    format!("{fp}.factor"),
                    format!("factor must be a finite number > 0, not {factor}; 10.0 makes the work ten times slower"),
                ));
            }
            target.map(|(service, replicas, of)| {
                (
                    FaultKind::Slowdown {
                        service,
                        factor: *factor,
                        replicas,
                    },
                    format!("slowdown {}{of} ×{}", name(service), trim(*factor)),
                )
            })
        }
        FaultKindSpec::ErrorBurst {
            service,
            errors,
            replicas,
        } => {
            let target = service_fault(t, &fp, service, *replicas, problems);
            if !(0.0..=1.0).contains(errors) {
                problems.push((
                    format!("{fp}.errors"),
                    format!("errors is a probability between 0 and 1, not {errors}; 0.5 fails half of the requests"),
                ));
            }
            target.map(|(service, replicas, of)| {
                (
                    FaultKind::ErrorBurst {
                        service,
                        errors: *errors,
                        replicas,
                    },
                    format!("errors {}{of} {}%", name(service), trim(errors * 100.0)),
                )
            })
        }
        FaultKindSpec::Partition { from, to } => {
            edge_fault(t, &fp, "a partition", from, to, problems).map(|(from, to)| {
                (
                    FaultKind::Partition { from, to },
                    format!("partition {} → {}", name(from), name(to)),
                )
            })
        }
        FaultKindSpec::Latency { from, to, add } => {
            let edge = edge_fault(t, &fp, "extra latency", from, to, problems);
            let add = match Dist::compile(add) {
                Ok(d) => Some(d),
                Err((field, msg)) => {
                    problems.push((sub_path(&format!("{fp}.add"), &field), msg));
                    None
                }
            };
            match (edge, add) {
                (Some((from, to)), Some(add)) => {
                    let amount = match add {
                        Dist::Zero => "+0s".to_string(),
                        Dist::Const(ns) => format!("+{}", SimDuration(ns)),
                        ref d => format!("+~{}", SimDuration(d.mean_ns().round() as u64)),
                    };
                    let label = format!("latency {} → {} {amount}", name(from), name(to));
                    Some((FaultKind::Latency { from, to, add }, label))
                }
                _ => None,
            }
        }
        FaultKindSpec::BrokerDown => Some((FaultKind::BrokerDown, "broker down".to_string())),
        FaultKindSpec::LeaderDown { topic, partition } => {
            match t.topics.iter().position(|(n, _)| n == topic) {
                None => {
                    let known: Vec<&str> = t.topics.iter().map(|(n, _)| *n).collect();
                    problems.push((
                        format!("{fp}.topic"),
                        if known.is_empty() {
                            format!("unknown topic `{topic}`; no topics are defined (add them under `topics:`)")
                        } else {
                            format!("unknown topic `{topic}`; known topics: {}", known.join(", "))
                        },
                    ));
                    None
                }
                Some(i) if *partition >= t.topics[i].1 => {
                    problems.push((
                        format!("{fp}.partition"),
                        format!(
                            "`{topic}` has {} partition(s), numbered from 0, so there is no partition {partition}",
                            t.topics[i].1
                        ),
                    ));
                    None
                }
                Some(i) => Some((
                    FaultKind::LeaderDown {
                        topic: i as u32,
                        partition: *partition,
                    },
                    format!("leader down {topic}[{partition}]"),
                )),
            }
        }
        FaultKindSpec::BrokerSlow { add } => match Dist::compile(add) {
            Ok(add) => {
                let label = format!(
                    "broker slow +~{}",
                    SimDuration(add.mean_ns().round() as u64)
                );
                Some((FaultKind::BrokerSlow { add }, label))
            }
            Err((field, msg)) => {
                problems.push((sub_path(&format!("{fp}.add"), &field), msg));
                None
            }
        },
    };

    let (kind, label) = kind_and_label?;
    if problems.len() > before {
        return None;
    }
    let start = SimTime(at?.as_nanos());
    Some(Fault {
        start,
        end: start.after(lasts?),
        kind,
        label,
    })
}

/// Resolves the service and checks the replica count of a service fault; returns the id,
/// the count and a label suffix such as ` (1 of 2)`.
fn service_fault(
    t: &FaultTargets<'_>,
    fp: &str,
    service: &str,
    replicas: Option<u32>,
    problems: &mut Vec<(String, String)>,
) -> Option<(ServiceId, Option<u32>, String)> {
    let id = resolve(t, &format!("{fp}.service"), service, problems)?;
    let total = t.services[id.0 as usize].1;
    match replicas {
        None => Some((id, None, String::new())),
        Some(0) => {
            problems.push((
                format!("{fp}.replicas"),
                format!("replicas must be at least 1, not 0; leave `replicas` out to affect every replica of `{service}`"),
            ));
            None
        }
        Some(k) if k > total => {
            problems.push((
                format!("{fp}.replicas"),
                format!(
                    "`{service}` has {total} replica{}, so a fault cannot affect {k}; give at most {total}, or leave `replicas` out to affect them all",
                    if total == 1 { "" } else { "s" }
                ),
            ));
            None
        }
        Some(k) => Some((id, Some(k), format!(" ({k} of {total})"))),
    }
}

/// Resolves both ends of an edge fault and checks that a sync call runs along it.
fn edge_fault(
    t: &FaultTargets<'_>,
    fp: &str,
    what: &str,
    from: &str,
    to: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<(ServiceId, ServiceId)> {
    let f = resolve(t, &format!("{fp}.from"), from, problems);
    let d = resolve(t, &format!("{fp}.to"), to, problems);
    let (f, d) = (f?, d?);
    if f == d {
        problems.push((
            format!("{fp}.to"),
            format!("`from` and `to` are both `{from}`; {what} acts on the calls between two different services"),
        ));
        return None;
    }
    if !t.calls.contains(&(f, d)) {
        let mut callees: Vec<&str> = t
            .calls
            .iter()
            .filter(|(c, _)| *c == f)
            .map(|(_, callee)| t.services[callee.0 as usize].0)
            .collect();
        callees.sort_unstable();
        callees.dedup();
        let known = if callees.is_empty() {
            format!("`{from}` makes no sync calls")
        } else {
            format!("`{from}` calls {}", callees.join(", "))
        };
        problems.push((
            format!("{fp}.to"),
            format!("`{from}` makes no sync call to `{to}`, so {what} there would change nothing ({known}); name an edge that has calls"),
        ));
        return None;
    }
    Some((f, d))
}

/// The id of service `name`, or a problem with a suggestion.
fn resolve(
    t: &FaultTargets<'_>,
    path: &str,
    name: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<ServiceId> {
    if let Some(i) = t.services.iter().position(|(n, _)| *n == name) {
        return Some(ServiceId(i as u32));
    }
    let known: Vec<&str> = t.services.iter().map(|(n, _)| *n).collect();
    let hint = match did_you_mean(name, &known) {
        Some(s) => format!("; did you mean `{s}`?"),
        None if known.is_empty() => "; no services are defined".to_string(),
        None => format!("; known services: {}", known.join(", ")),
    };
    problems.push((path.to_string(), format!("unknown service `{name}`{hint}")));
    None
}

fn duration(path: &str, text: &str, problems: &mut Vec<(String, String)>) -> Option<SimDuration> {
    parse_duration(text)
        .map_err(|e| problems.push((path.to_string(), e.to_string())))
        .ok()
}

/// The path of `field` (as returned by [`Dist::compile`]) inside the distribution at `path`.
fn sub_path(path: &str, field: &str) -> String {
    match field {
        "" => path.to_string(),
        f if f.starts_with('[') => format!("{path}{f}"),
        f => format!("{path}.{f}"),
    }
}

/// A number with at most three decimals and no trailing zeros (`10`, `2.5`, `7`).
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

// ---------------------------------------------------------------------------------------------
// Failure processes.
// ---------------------------------------------------------------------------------------------

/// A compiled failure process: the times to failure and to repair of each replica.
#[derive(Clone, Debug)]
pub struct FailureProcess {
    /// Time a replica stays up after a repair (or from the start); mean > 0.
    pub time_to_failure: Dist,
    /// Time a replica stays down after a failure; mean > 0.
    pub time_to_repair: Dist,
}

impl FailureProcess {
    /// Mean time to failure \[ns\].
    pub fn mttf_ns(&self) -> f64 {
        self.time_to_failure.mean_ns()
    }

    /// Mean time to repair \[ns\].
    pub fn mttr_ns(&self) -> f64 {
        self.time_to_repair.mean_ns()
    }

    /// Steady-state availability of one replica, MTTF/(MTTF + MTTR): its long-run fraction of
    /// time up, whatever the shape of the distributions (docs/semantics.md, *Availability*).
    pub fn availability(&self) -> f64 {
        let (f, r) = (self.mttf_ns(), self.mttr_ns());
        f / (f + r)
    }

    /// Steady-state probability that at least one of `replicas` independent replicas is up,
    /// 1 − (1 − A)ⁿ: the time-based availability of the service.
    pub fn any_up(&self, replicas: u32) -> f64 {
        1.0 - (1.0 - self.availability()).powi(replicas.min(i32::MAX as u32) as i32)
    }
}

/// Validates and compiles a service's `failures`; `path` is where they are, e.g.
/// `services[payment].failures`. Every problem is pushed onto `problems`; `None` when there
/// was one.
pub fn compile_failures(
    spec: &FailureSpec,
    path: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<FailureProcess> {
    let ttf = time_of(
        path,
        ("mttf", spec.mttf.as_deref()),
        ("failure", spec.failure.as_ref()),
        problems,
    );
    let ttr = time_of(
        path,
        ("mttr", spec.mttr.as_deref()),
        ("repair", spec.repair.as_ref()),
        problems,
    );
    Some(FailureProcess {
        time_to_failure: ttf?,
        time_to_repair: ttr?,
    })
}

/// One of the two times of a failure process, given by its mean (exponential) or by a
/// distribution, exactly once.
fn time_of(
    path: &str,
    (mean_field, mean): (&str, Option<&str>),
    (dist_field, dist): (&str, Option<&DistSpec>),
    problems: &mut Vec<(String, String)>,
) -> Option<Dist> {
    let what = if mean_field == "mttf" {
        "time to failure"
    } else {
        "time to repair"
    };
    match (mean, dist) {
        (None, None) => {
            let example = if mean_field == "mttf" { "4h" } else { "3m" };
            problems.push((
                path.to_string(),
                format!("a failure process needs a {what}: add `{mean_field}: \"{example}\"` (exponential with that mean) or a `{dist_field}:` distribution"),
            ));
            None
        }
        (Some(m), Some(_)) => {
            problems.push((
                format!("{path}.{dist_field}"),
                format!("give the {what} once: `{mean_field}: \"{m}\"` is short for `{dist_field}: Exp(mean: \"{m}\")`; remove one of them"),
            ));
            None
        }
        (Some(m), None) => {
            let p = format!("{path}.{mean_field}");
            match duration(&p, m, problems)? {
                SimDuration(0) => {
                    let why = if mean_field == "mttf" {
                        "a replica would fail again the instant it is repaired"
                    } else {
                        "a repair that takes no time is no failure at all; remove `failures` instead"
                    };
                    problems.push((
                        p,
                        format!("{mean_field} must be above 0, not \"{m}\"; {why}"),
                    ));
                    None
                }
                d => Some(Dist::Exp {
                    mean: d.as_nanos() as f64,
                }),
            }
        }
        (None, Some(spec)) => {
            let p = format!("{path}.{dist_field}");
            match Dist::compile(spec) {
                Ok(d) if d.mean_ns() > 0.0 => Some(d),
                Ok(_) => {
                    problems.push((
                        p,
                        format!("the {what} is always 0; it must be above 0 on average, e.g. Exp(mean: \"{}\")", if mean_field == "mttf" { "4h" } else { "3m" }),
                    ));
                    None
                }
                Err((field, msg)) => {
                    problems.push((sub_path(&p, &field), msg));
                    None
                }
            }
        }
    }
}

/// The up/down life of one replica under a [`FailureProcess`]: an alternating renewal process
/// (up for a time to failure, down for a time to repair, and so on, all independent).
///
/// The engine keeps one per replica, each with its own random stream (e.g.
/// `rng::stream(seed, "failures", service_name, replica)`), schedules an event at
/// [`next_change`](Renewal::next_change) and calls [`advance`](Renewal::advance) there.
///
/// ```
/// use microsim::fault::{compile_failures, FailureSpec, Renewal};
/// use microsim::time::SimTime;
/// let spec = FailureSpec { mttf: Some("4h".into()), mttr: Some("3m".into()), ..Default::default() };
/// let process = compile_failures(&spec, "failures", &mut Vec::new()).unwrap();
/// let mut rng = microsim::rng::stream(1, "failures", "payment", 0);
/// let mut life = Renewal::fresh(&process, &mut rng, SimTime::ZERO);
/// assert!(life.is_up());
/// let failed_at = life.next_change();
/// assert!(!life.advance(&process, &mut rng)); // now down, until the repair
/// assert!(life.next_change() >= failed_at);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renewal {
    up: bool,
    next: SimTime,
}

impl Renewal {
    /// A replica that is new at `now`: up, failing after a full time to failure.
    pub fn fresh(process: &FailureProcess, rng: &mut SimRng, now: SimTime) -> Renewal {
        Renewal {
            up: true,
            next: now.after(process.time_to_failure.sample(rng)),
        }
    }

    /// A replica caught at `now` in the steady state, as if it had been running forever: up
    /// with probability A = MTTF/(MTTF + MTTR), and the time to its next change drawn from the
    /// equilibrium (residual-life) distribution of the current phase. Time-based availability
    /// measured from `now` is then unbiased over any window, however short — unlike
    /// [`fresh`](Renewal::fresh) replicas, which are all up at first.
    pub fn stationary(process: &FailureProcess, rng: &mut SimRng, now: SimTime) -> Renewal {
        let up = rng.random::<f64>() < process.availability();
        let phase = if up {
            &process.time_to_failure
        } else {
            &process.time_to_repair
        };
        Renewal {
            up,
            next: now.after(residual(phase, rng)),
        }
    }

    /// Whether the replica is up now.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// When the replica next fails (if up) or is repaired (if down).
    pub fn next_change(&self) -> SimTime {
        self.next
    }

    /// Makes the change due at [`next_change`](Renewal::next_change) (fail or repair), draws
    /// the length of the new phase, and returns whether the replica is now up.
    pub fn advance(&mut self, process: &FailureProcess, rng: &mut SimRng) -> bool {
        self.up = !self.up;
        let phase = if self.up {
            &process.time_to_failure
        } else {
            &process.time_to_repair
        };
        self.next = self.next.after(phase.sample(rng));
        self.up
    }
}

/// A sample of the residual life at a random time of a renewal process with lifetimes `d`:
/// the equilibrium distribution, density (1 − F(x))/μ. It equals U·X* with U uniform on
/// \[0, 1) and X* the length-biased lifetime (density x·f(x)/μ), which has a closed form for
/// each family: Gamma(k, θ) → Gamma(k + 1, θ); LogNormal(μ, σ) → LogNormal(μ + σ², σ);
/// Uniform(a, b) → density ∝ x on \[a, b\]; a constant stays constant; an empirical sample
/// is picked with probability proportional to its value. The exponential is memoryless.
fn residual(d: &Dist, rng: &mut SimRng) -> SimDuration {
    let biased = match d {
        Dist::Zero => return SimDuration::ZERO,
        Dist::Exp { .. } => return d.sample(rng),
        Dist::Const(v) => *v as f64,
        Dist::Uniform { lo, hi } => {
            let v: f64 = rng.random();
            (lo * lo + v * (hi * hi - lo * lo)).sqrt()
        }
        Dist::LogNormal { sampler, mu, sigma } => {
            match LogNormal::new(mu + sigma * sigma, *sigma) {
                Ok(s) => s.sample(rng),
                Err(_) => sampler.sample(rng),
            }
        }
        Dist::Gamma {
            sampler,
            shape,
            scale,
        } => match Gamma::new(shape + 1.0, *scale) {
            Ok(s) => s.sample(rng),
            Err(_) => sampler.sample(rng),
        },
        Dist::Empirical(v) => {
            let total: f64 = v.iter().map(|&x| x as f64).sum();
            if total <= 0.0 {
                return SimDuration::ZERO;
            }
            let mut target = rng.random::<f64>() * total;
            let mut pick = v.last().copied().unwrap_or(0) as f64;
            for &x in v.iter() {
                if target < x as f64 {
                    pick = x as f64;
                    break;
                }
                target -= x as f64;
            }
            pick
        }
    };
    let u: f64 = rng.random();
    SimDuration((u * biased).round() as u64)
}

// ---------------------------------------------------------------------------------------------
// Time-based availability.
// ---------------------------------------------------------------------------------------------

/// Time-based availability accounting for one service, in O(1) memory: the engine reports
/// every change in the number of replicas that can serve ([`set_up_replicas`]), and this
/// integrates the time with at least one replica up, with all of them up, and replica-time up.
///
/// "Up" is the engine's call; the intent is "able to answer": not crashed, not failed, not
/// hung. Call [`restart`](UpTime::restart) at the end of the warm-up to measure from there.
///
/// [`set_up_replicas`]: UpTime::set_up_replicas
#[derive(Clone, Debug)]
pub struct UpTime {
    total: u32,
    up: u32,
    since: SimTime,
    outage_since: Option<SimTime>,
    totals: UpTimeTotals,
}

/// What an [`UpTime`] measured over a window; exact integers, and mergeable across runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpTimeTotals {
    /// Length of the window.
    pub measured: SimDuration,
    /// Time with at least one replica up: the service is available (time-based).
    pub any_up: SimDuration,
    /// Time with every replica up.
    pub all_up: SimDuration,
    /// Replica-nanoseconds up (Σ over time of the number of replicas up).
    pub replica_up_ns: u128,
    /// Replica-nanoseconds in the window (replicas × window length).
    pub replica_ns: u128,
    /// Outages (spans with no replica up) that began in the window, or were going on when it
    /// began.
    pub outages: u64,
    /// The longest outage, as far as it fell in the window.
    pub longest_outage: SimDuration,
}

impl UpTimeTotals {
    /// Time-based availability of the service: the fraction of the window with at least one
    /// replica up (1 for an empty window, where nothing was seen down).
    pub fn any_up_fraction(&self) -> f64 {
        ratio(
            self.any_up.as_nanos() as f64,
            self.measured.as_nanos() as f64,
        )
    }

    /// The fraction of the window with every replica up (1 for an empty window).
    pub fn all_up_fraction(&self) -> f64 {
        ratio(
            self.all_up.as_nanos() as f64,
            self.measured.as_nanos() as f64,
        )
    }

    /// The mean fraction of replicas up: the time-based availability of one replica,
    /// comparable with MTTF/(MTTF + MTTR) (1 for an empty window).
    pub fn replica_fraction(&self) -> f64 {
        ratio(self.replica_up_ns as f64, self.replica_ns as f64)
    }

    /// Time with no replica up.
    pub fn down(&self) -> SimDuration {
        SimDuration(self.measured.0.saturating_sub(self.any_up.0))
    }

    /// Adds `other` (another run, or another window) to these totals: sums, and the longer
    /// of the longest outages. Exact, so merged results do not depend on the order.
    pub fn merge(&mut self, other: &UpTimeTotals) {
        self.measured = SimDuration(self.measured.0.saturating_add(other.measured.0));
        self.any_up = SimDuration(self.any_up.0.saturating_add(other.any_up.0));
        self.all_up = SimDuration(self.all_up.0.saturating_add(other.all_up.0));
        self.replica_up_ns = self.replica_up_ns.saturating_add(other.replica_up_ns);
        self.replica_ns = self.replica_ns.saturating_add(other.replica_ns);
        self.outages = self.outages.saturating_add(other.outages);
        self.longest_outage = self.longest_outage.max(other.longest_outage);
    }
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        1.0
    }
}

impl UpTime {
    /// Starts measuring at `now` a service of `total` replicas, `up` of which are up (clamped
    /// to `total`).
    pub fn new(now: SimTime, up: u32, total: u32) -> UpTime {
        let up = up.min(total);
        let mut u = UpTime {
            total,
            up,
            since: now,
            outage_since: None,
            totals: UpTimeTotals::default(),
        };
        u.restart(now);
        u
    }

    /// Replicas up now.
    pub fn up(&self) -> u32 {
        self.up
    }

    /// Records that from `now` on, `up` replicas (clamped to the total) are up. Calls must
    /// come in time order; an earlier `now` counts as no time passing.
    pub fn set_up_replicas(&mut self, now: SimTime, up: u32) {
        self.integrate(now);
        let up = up.min(self.total);
        if self.up > 0 && up == 0 {
            self.totals.outages += 1;
            self.outage_since = Some(self.since);
        } else if self.up == 0 && up > 0 {
            self.end_outage();
        }
        self.up = up;
    }

    /// Forgets everything measured so far and measures from `now` (e.g. the end of the
    /// warm-up), keeping the current state; an outage going on counts as one from `now`.
    pub fn restart(&mut self, now: SimTime) {
        self.since = self.since.max(now);
        self.totals = UpTimeTotals::default();
        self.outage_since = None;
        if self.up == 0 {
            self.totals.outages = 1;
            self.outage_since = Some(self.since);
        }
    }

    /// The totals of the window from the last (re)start up to `now`, counting an outage still
    /// going on up to `now`. Does not change the state.
    pub fn totals(&self, now: SimTime) -> UpTimeTotals {
        let mut u = self.clone();
        u.integrate(now);
        u.end_outage();
        u.totals
    }

    fn integrate(&mut self, now: SimTime) {
        let dt = now.since(self.since);
        let t = &mut self.totals;
        t.measured = SimDuration(t.measured.0.saturating_add(dt.0));
        if self.up > 0 {
            t.any_up = SimDuration(t.any_up.0.saturating_add(dt.0));
        }
        if self.up == self.total {
            t.all_up = SimDuration(t.all_up.0.saturating_add(dt.0));
        }
        t.replica_up_ns += u128::from(self.up) * u128::from(dt.0);
        t.replica_ns += u128::from(self.total) * u128::from(dt.0);
        self.since = self.since.max(now);
    }

    fn end_outage(&mut self) {
        if let Some(start) = self.outage_since.take() {
            let length = self.since.since(start);
            self.totals.longest_outage = self.totals.longest_outage.max(length);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;
    use crate::time::NS_PER_S;

    fn ron<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ron::error::SpannedError> {
        ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
    }

    const SERVICES: [(&str, u32); 4] = [
        ("gateway", 2),
        ("inventory", 3),
        ("payment", 2),
        ("email", 1),
    ];
    const CALLS: [(ServiceId, ServiceId); 3] = [
        (ServiceId(0), ServiceId(1)),
        (ServiceId(0), ServiceId(2)),
        (ServiceId(0), ServiceId(1)),
    ];

    fn targets() -> FaultTargets<'static> {
        FaultTargets {
            services: &SERVICES,
            calls: &CALLS,
            duration: SimDuration::from_secs(15 * 60),
            topics: &[("orders", 3)],
        }
    }

    /// Compiles a `faults` list against gateway(2) → {inventory(3), payment(2)}, email(1),
    /// in a 15-minute run.
    fn compile(text: &str) -> (Vec<Fault>, Vec<(String, String)>) {
        let specs: Vec<FaultSpec> = ron(text).unwrap();
        let mut problems = Vec::new();
        let faults = compile_faults(&specs, &targets(), &mut problems);
        (faults, problems)
    }

    /// The only problem of a single fault `(at: "1m", lasts: "10s", fault: <fault>)`.
    fn problem_of_fault(fault: &str) -> (String, String) {
        problem_of(&format!("[(at: \"1m\", lasts: \"10s\", fault: {fault})]"))
    }

    fn problem_of(text: &str) -> (String, String) {
        let (faults, mut problems) = compile(text);
        assert!(faults.is_empty(), "{faults:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.remove(0)
    }

    const ALL_FAULTS: &str = r#"[
        (at: "3m", lasts: "60s", fault: Slowdown(service: "inventory", factor: 10.0)),
        (at: "6m", lasts: "45s", fault: Crash(service: "payment", replicas: 1)),   // one of two
        (at: "8m", lasts: "30s", fault: Hang(service: "payment")),
        (at: "9m", lasts: "20s", fault: ErrorBurst(service: "inventory", errors: 0.5)),
        (at: "10m", lasts: "20s", fault: Partition(from: "gateway", to: "payment")),
        (at: "11m", lasts: "20s", fault: Latency(from: "gateway", to: "inventory", add: Const("200ms"))),
    ]"#;

    #[test]
    fn every_fault_variant_parses_from_ron() {
        let specs: Vec<FaultSpec> = ron(ALL_FAULTS).unwrap();
        assert_eq!(specs.len(), 6);
        assert_eq!(
            (specs[0].at.as_str(), specs[0].lasts.as_str()),
            ("3m", "60s")
        );
        assert!(matches!(
            &specs[0].fault,
            FaultKindSpec::Slowdown { service, factor, replicas: None }
                if service == "inventory" && *factor == 10.0
        ));
        assert!(matches!(
            &specs[1].fault,
            FaultKindSpec::Crash { service, replicas: Some(1) } if service == "payment"
        ));
        assert!(matches!(
            &specs[2].fault,
            FaultKindSpec::Hang { service, replicas: None } if service == "payment"
        ));
        assert!(matches!(
            &specs[3].fault,
            FaultKindSpec::ErrorBurst { service, errors, replicas: None }
                if service == "inventory" && *errors == 0.5
        ));
        assert!(matches!(
            &specs[4].fault,
            FaultKindSpec::Partition { from, to } if from == "gateway" && to == "payment"
        ));
        assert!(matches!(
            &specs[5].fault,
            FaultKindSpec::Latency { from, to, add: DistSpec::Const(c) }
                if from == "gateway" && to == "inventory" && c == "200ms"
        ));
    }

    #[test]
    fn replicas_parse_on_every_service_fault() {
        let specs: Vec<FaultSpec> = ron(r#"[
            (at: "1m", lasts: "1s", fault: Slowdown(service: "a", factor: 3.0, replicas: 1)),
            (at: "1m", lasts: "1s", fault: ErrorBurst(service: "a", errors: 1.0, replicas: 2)),
            (at: "1m", lasts: "1s", fault: Hang(service: "a", replicas: 3)),
        ]"#)
        .unwrap();
        assert!(matches!(
            specs[0].fault,
            FaultKindSpec::Slowdown {
                replicas: Some(1),
                ..
            }
        ));
        assert!(matches!(
            specs[1].fault,
            FaultKindSpec::ErrorBurst {
                replicas: Some(2),
                ..
            }
        ));
        assert!(matches!(
            specs[2].fault,
            FaultKindSpec::Hang {
                replicas: Some(3),
                ..
            }
        ));
    }

    #[test]
    fn misspelt_fields_and_variants_are_syntax_errors() {
        let e = ron::<Vec<FaultSpec>>(
            r#"[(at: "1m", lasts: "1s", fault: Slowdown(service: "a", factr: 2.0))]"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("factr"), "{e}");
        let e = ron::<Vec<FaultSpec>>(r#"[(at: "1m", lasts: "1s", fault: Crsh(service: "a"))]"#)
            .unwrap_err();
        assert!(e.to_string().contains("Crsh"), "{e}");
        let e = ron::<Vec<FaultSpec>>(r#"[(at: "1m", last: "1s", fault: Hang(service: "a"))]"#)
            .unwrap_err();
        assert!(e.to_string().contains("last"), "{e}");
        let e = ron::<FailureSpec>(r#"(mtbf: "4h", mttr: "3m")"#).unwrap_err();
        assert!(e.to_string().contains("mtbf"), "{e}");
    }

    #[test]
    fn failure_specs_parse_from_ron() {
        let s: FailureSpec = ron(r#"(mttf: "4h", mttr: "3m")"#).unwrap();
        assert_eq!(s.mttf.as_deref(), Some("4h"));
        assert_eq!(s.mttr.as_deref(), Some("3m"));
        assert!(s.failure.is_none() && s.repair.is_none());
        let s: FailureSpec = ron(
            r#"(failure: Gamma(mean: "4h", cv: 0.5), repair: LogNormal(median: "2m", p99: "20m"))"#,
        )
        .unwrap();
        assert!(s.mttf.is_none() && s.mttr.is_none());
        assert!(matches!(s.failure, Some(DistSpec::Gamma { .. })));
        assert!(matches!(s.repair, Some(DistSpec::LogNormal { .. })));
    }

    #[test]
    fn all_faults_compile_with_times_kinds_and_labels() {
        let (faults, problems) = compile(ALL_FAULTS);
        assert!(problems.is_empty(), "{problems:?}");
        let labels: Vec<&str> = faults.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "slowdown inventory ×10",
                "crash payment (1 of 2)",
                "hang payment",
                "errors inventory 50%",
                "partition gateway → payment",
                "latency gateway → inventory +200ms",
            ]
        );
        assert_eq!(faults[0].start, SimTime(180 * NS_PER_S));
        assert_eq!(faults[0].end, SimTime(240 * NS_PER_S));
        assert_eq!(faults[1].start, SimTime(360 * NS_PER_S));
        assert_eq!(faults[1].end, SimTime(405 * NS_PER_S));
        assert!(matches!(
            faults[1].kind,
            FaultKind::Crash {
                service: ServiceId(2),
                replicas: Some(1)
            }
        ));
        assert!(matches!(
            faults[5].kind,
            FaultKind::Latency {
                from: ServiceId(0),
                to: ServiceId(1),
                add: Dist::Const(200_000_000)
            }
        ));
    }

    #[test]
    fn labels_of_random_latency_partial_slowdown_and_odd_percentages() {
        let (faults, problems) = compile(
            r#"[
            (at: "0s", lasts: "1s", fault: Latency(from: "gateway", to: "payment", add: Exp(mean: "50ms"))),
            (at: "0s", lasts: "1s", fault: Slowdown(service: "inventory", factor: 2.5, replicas: 2)),
            (at: "0s", lasts: "1s", fault: ErrorBurst(service: "email", errors: 0.07)),
        ]"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let labels: Vec<&str> = faults.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "latency gateway → payment +~50ms",
                "slowdown inventory (2 of 3) ×2.5",
                "errors email 7%",
            ]
        );
    }

    #[test]
    fn affected_replicas_are_the_lowest_indices() {
        let crash = FaultKind::Crash {
            service: ServiceId(2),
            replicas: Some(1),
        };
        assert!(crash.affects_replica(ServiceId(2), 0));
        assert!(!crash.affects_replica(ServiceId(2), 1));
        assert!(!crash.affects_replica(ServiceId(1), 0));
        let hang = FaultKind::Hang {
            service: ServiceId(2),
            replicas: None,
        };
        assert!(hang.affects_replica(ServiceId(2), 1));
        let cut = FaultKind::Partition {
            from: ServiceId(0),
            to: ServiceId(2),
        };
        assert!(!cut.affects_replica(ServiceId(0), 0));
        assert!(cut.affects_edge(ServiceId(0), ServiceId(2)));
        assert!(!cut.affects_edge(ServiceId(2), ServiceId(0)));
        assert!(!crash.affects_edge(ServiceId(0), ServiceId(2)));
    }

    // One test per validation message.

    #[test]
    fn unknown_service_suggests_the_closest_name() {
        let (path, msg) = problem_of_fault(r#"Crash(service: "paymnet")"#);
        assert_eq!(path, "faults[0].fault.service");
        assert_eq!(msg, "unknown service `paymnet`; did you mean `payment`?");
    }

    #[test]
    fn unknown_service_far_from_any_lists_the_known_ones() {
        let (path, msg) = problem_of_fault(r#"Hang(service: "warehouse")"#);
        assert_eq!(path, "faults[0].fault.service");
        assert_eq!(
            msg,
            "unknown service `warehouse`; known services: gateway, inventory, payment, email"
        );
    }

    #[test]
    fn unknown_services_on_an_edge_are_reported_at_each_end() {
        let (faults, problems) = compile(
            r#"[(at: "1m", lasts: "10s", fault: Partition(from: "gatewy", to: "paymnt"))]"#,
        );
        assert!(faults.is_empty());
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].0, "faults[0].fault.from");
        assert!(problems[0].1.contains("did you mean `gateway`?"));
        assert_eq!(problems[1].0, "faults[0].fault.to");
        assert!(problems[1].1.contains("did you mean `payment`?"));
    }

    #[test]
    fn at_without_a_unit_is_reported() {
        let (path, msg) =
            problem_of(r#"[(at: "90", lasts: "10s", fault: Hang(service: "payment"))]"#);
        assert_eq!(path, "faults[0].at");
        assert!(msg.starts_with("`90` has no unit"), "{msg}");
    }

    #[test]
    fn lasts_that_is_not_a_duration_is_reported() {
        let (path, msg) =
            problem_of(r#"[(at: "1m", lasts: "soon", fault: Hang(service: "payment"))]"#);
        assert_eq!(path, "faults[0].lasts");
        assert!(msg.contains("`soon` is not a duration"), "{msg}");
    }

    #[test]
    fn a_fault_starting_after_the_run_is_reported() {
        let (path, msg) =
            problem_of(r#"[(at: "20m", lasts: "10s", fault: Hang(service: "payment"))]"#);
        assert_eq!(path, "faults[0].at");
        assert_eq!(
            msg,
            "the fault starts at \"20m\", at or after the end of the run (15m), so it would never happen; start it earlier or lengthen run.duration"
        );
    }

    #[test]
    fn a_fault_lasting_zero_is_reported() {
        let (path, msg) =
            problem_of(r#"[(at: "1m", lasts: "0ms", fault: Hang(service: "payment"))]"#);
        assert_eq!(path, "faults[0].lasts");
        assert_eq!(
            msg,
            "lasts: \"0ms\" is no time at all, so the fault would never take effect; give a positive duration such as \"30s\""
        );
    }

    #[test]
    fn a_factor_that_is_not_a_positive_finite_number_is_reported() {
        for (factor, shown) in [("NaN", "NaN"), ("inf", "inf"), ("0.0", "0"), ("-2.0", "-2")] {
            let (path, msg) = problem_of_fault(&format!(
                r#"Slowdown(service: "inventory", factor: {factor})"#
            ));
            assert_eq!(path, "faults[0].fault.factor");
            assert_eq!(
                msg,
                format!("factor must be a finite number > 0, not {shown}; 10.0 makes the work ten times slower")
            );
        }
    }

    #[test]
    fn errors_outside_zero_to_one_are_reported() {
        for (errors, shown) in [("1.5", "1.5"), ("-0.1", "-0.1"), ("NaN", "NaN")] {
            let (path, msg) = problem_of_fault(&format!(
                r#"ErrorBurst(service: "inventory", errors: {errors})"#
            ));
            assert_eq!(path, "faults[0].fault.errors");
            assert_eq!(
                msg,
                format!("errors is a probability between 0 and 1, not {shown}; 0.5 fails half of the requests")
            );
        }
    }

    #[test]
    fn zero_replicas_is_reported() {
        let (path, msg) = problem_of_fault(r#"Crash(service: "payment", replicas: 0)"#);
        assert_eq!(path, "faults[0].fault.replicas");
        assert_eq!(
            msg,
            "replicas must be at least 1, not 0; leave `replicas` out to affect every replica of `payment`"
        );
    }

    #[test]
    fn more_replicas_than_the_service_has_is_reported() {
        let (path, msg) = problem_of_fault(r#"Hang(service: "payment", replicas: 3)"#);
        assert_eq!(path, "faults[0].fault.replicas");
        assert_eq!(
            msg,
            "`payment` has 2 replicas, so a fault cannot affect 3; give at most 2, or leave `replicas` out to affect them all"
        );
        let (_, msg) = problem_of_fault(r#"Slowdown(service: "email", factor: 2.0, replicas: 2)"#);
        assert!(msg.starts_with("`email` has 1 replica, so"), "{msg}");
    }

    #[test]
    fn a_partition_of_a_service_from_itself_is_reported() {
        let (path, msg) = problem_of_fault(r#"Partition(from: "payment", to: "payment")"#);
        assert_eq!(path, "faults[0].fault.to");
        assert_eq!(
            msg,
            "`from` and `to` are both `payment`; a partition acts on the calls between two different services"
        );
    }

    #[test]
    fn latency_from_a_service_to_itself_is_reported() {
        let (path, msg) =
            problem_of_fault(r#"Latency(from: "gateway", to: "gateway", add: Const("5ms"))"#);
        assert_eq!(path, "faults[0].fault.to");
        assert_eq!(
            msg,
            "`from` and `to` are both `gateway`; extra latency acts on the calls between two different services"
        );
    }

    #[test]
    fn an_edge_without_calls_is_reported_with_the_callees() {
        let (path, msg) = problem_of_fault(r#"Partition(from: "gateway", to: "email")"#);
        assert_eq!(path, "faults[0].fault.to");
        assert_eq!(
            msg,
            "`gateway` makes no sync call to `email`, so a partition there would change nothing (`gateway` calls inventory, payment); name an edge that has calls"
        );
        let (_, msg) =
            problem_of_fault(r#"Latency(from: "payment", to: "gateway", add: Const("5ms"))"#);
        assert!(msg.contains("(`payment` makes no sync calls)"), "{msg}");
    }

    #[test]
    fn a_bad_latency_distribution_is_reported_at_its_field() {
        let (path, msg) = problem_of_fault(
            r#"Latency(from: "gateway", to: "payment", add: LogNormal(median: "10ms", p99: "5ms"))"#,
        );
        assert_eq!(path, "faults[0].fault.add.p99");
        assert!(
            msg.starts_with("p99 (5ms) must be above the median (10ms)"),
            "{msg}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_index() {
        let (faults, problems) = compile(
            r#"[
            (at: "1m", lasts: "10s", fault: Hang(service: "payment")),
            (at: "1x", lasts: "0s", fault: Slowdown(service: "nope", factor: NaN)),
        ]"#,
        );
        assert_eq!(faults.len(), 1);
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "faults[1].at",
                "faults[1].lasts",
                "faults[1].fault.service",
                "faults[1].fault.factor"
            ]
        );
    }

    // Failure processes.

    fn failures(text: &str) -> (Option<FailureProcess>, Vec<(String, String)>) {
        let spec: FailureSpec = ron(text).unwrap();
        let mut problems = Vec::new();
        let p = compile_failures(&spec, "services[payment].failures", &mut problems);
        (p, problems)
    }

    fn failure_problem(text: &str) -> (String, String) {
        let (p, mut problems) = failures(text);
        assert!(p.is_none());
        assert_eq!(problems.len(), 1, "{problems:?}");
        problems.remove(0)
    }

    #[test]
    fn mttf_and_mttr_compile_to_exponentials() {
        let (p, problems) = failures(r#"(mttf: "4h", mttr: "3m")"#);
        assert!(problems.is_empty(), "{problems:?}");
        let p = p.unwrap();
        assert!(p.time_to_failure.is_exponential() && p.time_to_repair.is_exponential());
        assert_eq!(p.mttf_ns(), 4.0 * 3600.0 * NS_PER_S as f64);
        assert_eq!(p.mttr_ns(), 180.0 * NS_PER_S as f64);
        assert!((p.availability() - 240.0 / 243.0).abs() < 1e-15);
        let a: f64 = 240.0 / 243.0;
        assert!((p.any_up(2) - (1.0 - (1.0 - a).powi(2))).abs() < 1e-15);
    }

    #[test]
    fn distributions_replace_the_exponentials() {
        let (p, problems) =
            failures(r#"(mttf: "4h", repair: LogNormal(median: "2m", p99: "20m"))"#);
        assert!(problems.is_empty(), "{problems:?}");
        let p = p.unwrap();
        assert!(matches!(p.time_to_repair, Dist::LogNormal { .. }));
        // The mean of that log-normal is 2m·exp(σ²/2), σ = ln(10)/z₉₉: about 3.26 minutes.
        assert!((p.mttr_ns() / (60.0 * NS_PER_S as f64) - 3.258).abs() < 0.01);
    }

    #[test]
    fn a_missing_time_to_failure_is_reported() {
        let (path, msg) = failure_problem(r#"(mttr: "3m")"#);
        assert_eq!(path, "services[payment].failures");
        assert_eq!(
            msg,
            "a failure process needs a time to failure: add `mttf: \"4h\"` (exponential with that mean) or a `failure:` distribution"
        );
    }

    #[test]
    fn a_missing_time_to_repair_is_reported() {
        let (path, msg) = failure_problem(r#"(mttf: "4h")"#);
        assert_eq!(path, "services[payment].failures");
        assert_eq!(
            msg,
            "a failure process needs a time to repair: add `mttr: \"3m\"` (exponential with that mean) or a `repair:` distribution"
        );
    }

    #[test]
    fn a_mean_and_a_distribution_for_the_same_time_are_reported() {
        let (path, msg) = failure_problem(
            r#"(mttf: "4h", mttr: "3m", repair: LogNormal(median: "2m", p99: "20m"))"#,
        );
        assert_eq!(path, "services[payment].failures.repair");
        assert_eq!(
            msg,
            "give the time to repair once: `mttr: \"3m\"` is short for `repair: Exp(mean: \"3m\")`; remove one of them"
        );
    }

    #[test]
    fn a_zero_mttf_is_reported() {
        let (path, msg) = failure_problem(r#"(mttf: "0h", mttr: "3m")"#);
        assert_eq!(path, "services[payment].failures.mttf");
        assert_eq!(
            msg,
            "mttf must be above 0, not \"0h\"; a replica would fail again the instant it is repaired"
        );
    }

    #[test]
    fn a_zero_mttr_is_reported() {
        let (path, msg) = failure_problem(r#"(mttf: "4h", mttr: "0s")"#);
        assert_eq!(path, "services[payment].failures.mttr");
        assert_eq!(
            msg,
            "mttr must be above 0, not \"0s\"; a repair that takes no time is no failure at all; remove `failures` instead"
        );
    }

    #[test]
    fn an_mttf_that_is_not_a_duration_is_reported() {
        let (path, msg) = failure_problem(r#"(mttf: "4 hours", mttr: "3m")"#);
        assert_eq!(path, "services[payment].failures.mttf");
        assert!(msg.contains("unknown unit `hours`"), "{msg}");
    }

    #[test]
    fn a_bad_repair_distribution_is_reported_at_its_field() {
        let (path, msg) = failure_problem(r#"(mttf: "4h", repair: Gamma(mean: "3m", cv: inf))"#);
        assert_eq!(path, "services[payment].failures.repair.cv");
        assert!(
            msg.starts_with("cv must be a finite number > 0, not inf"),
            "{msg}"
        );
    }

    #[test]
    fn a_time_to_failure_that_is_always_zero_is_reported() {
        let (path, msg) = failure_problem(r#"(failure: Const("0s"), mttr: "3m")"#);
        assert_eq!(path, "services[payment].failures.failure");
        assert_eq!(
            msg,
            "the time to failure is always 0; it must be above 0 on average, e.g. Exp(mean: \"4h\")"
        );
    }

    // The renewal process.

    /// Fraction of time up over `cycles` full up/down cycles of one fresh replica.
    fn long_run_up_fraction(p: &FailureProcess, cycles: usize, seed: u64) -> f64 {
        let mut rng = stream(seed, "test", "renewal", 0);
        let mut life = Renewal::fresh(p, &mut rng, SimTime::ZERO);
        let (mut up_ns, mut last) = (0u128, SimTime::ZERO);
        for _ in 0..cycles {
            assert!(life.is_up());
            up_ns += u128::from(life.next_change().since(last).0);
            assert!(!life.advance(p, &mut rng)); // failed; next change is the repair
            last = life.next_change();
            assert!(life.advance(p, &mut rng));
        }
        up_ns as f64 / last.as_nanos() as f64
    }

    /// Standard error of the up fraction after n cycles, by the delta method for a ratio
    /// estimator: the fraction is ΣUᵢ/Σ(Uᵢ + Dᵢ), and with A = E\[U\]/E\[U + D\],
    /// √n·(fraction − A) → Normal(0, Var(U − A(U + D)) / E\[U + D\]²). U and D are
    /// independent, so Var(U − A(U + D)) = (1 − A)²·Var U + A²·Var D.
    fn up_fraction_se(p: &FailureProcess, cycles: usize) -> f64 {
        let a = p.availability();
        let var_u = p.time_to_failure.scv() * p.mttf_ns().powi(2);
        let var_d = p.time_to_repair.scv() * p.mttr_ns().powi(2);
        let var = (1.0 - a).powi(2) * var_u + a * a * var_d;
        (var / cycles as f64).sqrt() / (p.mttf_ns() + p.mttr_ns())
    }

    fn process(text: &str) -> FailureProcess {
        let (p, problems) = failures(text);
        assert!(problems.is_empty(), "{problems:?}");
        p.unwrap()
    }

    #[test]
    fn long_run_up_fraction_is_mttf_over_mttf_plus_mttr() {
        // 200,000 cycles of MTTF 1h / MTTR 5m (A = 12/13): the standard error of the up
        // fraction is about 2.2e-4, and 5 standard errors leave a chance of ~6e-7 of a false
        // failure for a correct sampler, while a bias of 0.1 % (e.g. a mean off by 1 %) fails.
        let cycles = 200_000;
        for (text, seed) in [
            (r#"(mttf: "1h", mttr: "5m")"#, 1),
            (
                r#"(failure: Gamma(mean: "1h", cv: 0.5), repair: LogNormal(median: "4m", p99: "30m"))"#,
                2,
            ),
            (
                r#"(failure: Uniform(min: "30m", max: "90m"), repair: Const("5m"))"#,
                3,
            ),
        ] {
            let p = process(text);
            let se = up_fraction_se(&p, cycles);
            let got = long_run_up_fraction(&p, cycles, seed);
            assert!(
                (got - p.availability()).abs() < 5.0 * se,
                "{text}: up fraction {got} vs A = {} (se {se})",
                p.availability()
            );
        }
    }

    /// Mean and standard error of the mean of `f` over `n` draws.
    fn mean_and_se(n: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
        let (mut sum, mut sum2) = (0.0, 0.0);
        for _ in 0..n {
            let x = f();
            sum += x;
            sum2 += x * x;
        }
        let mean = sum / n as f64;
        let var = (sum2 / n as f64 - mean * mean).max(0.0);
        (mean, (var / n as f64).sqrt())
    }

    #[test]
    fn residual_lives_have_the_equilibrium_mean() {
        // The residual life at a random time has mean E[X²]/(2E[X]) = μ(1 + scv)/2 (the
        // inspection paradox). 200,000 draws each; the tolerance is 5 standard errors of the
        // sample mean, estimated from the draws themselves.
        let specs = [
            DistSpec::Const("10s".into()),
            DistSpec::Exp { mean: "10s".into() },
            DistSpec::Uniform {
                min: "2s".into(),
                max: "10s".into(),
            },
            DistSpec::LogNormal {
                median: "8s".into(),
                p99: "30s".into(),
            },
            DistSpec::Gamma {
                mean: "10s".into(),
                cv: 0.5,
            },
            DistSpec::Empirical(vec!["1s".into(), "2s".into(), "9s".into()]),
        ];
        let mut rng = stream(4, "test", "residual", 0);
        for s in &specs {
            let d = Dist::compile(s).unwrap();
            let expected = d.mean_ns() * (1.0 + d.scv()) / 2.0;
            let (mean, se) = mean_and_se(200_000, || residual(&d, &mut rng).0 as f64);
            assert!(
                (mean - expected).abs() < 5.0 * se + 1.0,
                "{s:?}: residual mean {mean} vs {expected} (se {se})"
            );
        }
    }

    #[test]
    fn stationary_replicas_are_unbiased_over_short_windows() {
        // Up time over a window of one mean cycle, for 40,000 independent stationary replicas
        // (non-exponential times, so the memoryless shortcut does not apply): the mean fraction
        // up must be A exactly in expectation, within 5 standard errors estimated from the
        // replicas themselves. A fresh start (up, with a whole time to failure ahead) is
        // optimistic over such a window, and the test checks that the difference shows.
        let p = process(
            r#"(failure: Gamma(mean: "20m", cv: 0.5), repair: LogNormal(median: "4m", p99: "30m"))"#,
        );
        let window = SimTime((p.mttf_ns() + p.mttr_ns()) as u64);
        let mut rng = stream(5, "test", "stationary", 0);
        let (mean, se) = mean_and_se(40_000, || {
            let mut life = Renewal::stationary(&p, &mut rng, SimTime::ZERO);
            let mut up = UpTime::new(SimTime::ZERO, u32::from(life.is_up()), 1);
            while life.next_change() < window {
                let at = life.next_change();
                let now_up = life.advance(&p, &mut rng);
                up.set_up_replicas(at, u32::from(now_up));
            }
            up.totals(window).replica_fraction()
        });
        assert!(
            (mean - p.availability()).abs() < 5.0 * se,
            "mean up fraction {mean} vs A = {} (se {se})",
            p.availability()
        );
        // And the fresh start is measurably optimistic over the same window.
        let (fresh, _) = mean_and_se(40_000, || {
            let mut life = Renewal::fresh(&p, &mut rng, SimTime::ZERO);
            let mut up = UpTime::new(SimTime::ZERO, 1, 1);
            while life.next_change() < window {
                let at = life.next_change();
                let now_up = life.advance(&p, &mut rng);
                up.set_up_replicas(at, u32::from(now_up));
            }
            up.totals(window).replica_fraction()
        });
        assert!(fresh > p.availability() + 10.0 * se, "fresh {fresh}");
    }

    #[test]
    fn renewal_is_deterministic_for_a_stream() {
        let p = process(r#"(mttf: "1h", mttr: "5m")"#);
        let run = || {
            let mut rng = stream(9, "failures", "payment", 1);
            let mut life = Renewal::stationary(&p, &mut rng, SimTime(7));
            (0..10)
                .map(|_| {
                    life.advance(&p, &mut rng);
                    life.next_change()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    // Time-based availability accounting.

    fn s(secs: u64) -> SimTime {
        SimTime(secs * NS_PER_S)
    }

    fn d(secs: u64) -> SimDuration {
        SimDuration(secs * NS_PER_S)
    }

    /// 3 replicas: all up 0–10 s, two up 10–20 s, none 20–30 s (a no-op update at 25 s),
    /// all up 30–40 s, none from 40 s on.
    fn scripted() -> UpTime {
        let mut u = UpTime::new(s(0), 3, 3);
        u.set_up_replicas(s(10), 2);
        u.set_up_replicas(s(20), 0);
        u.set_up_replicas(s(25), 0);
        u.set_up_replicas(s(30), 3);
        u.set_up_replicas(s(40), 0);
        u
    }

    #[test]
    fn up_time_integrates_a_scripted_sequence_exactly() {
        let t = scripted().totals(s(55));
        assert_eq!(
            t,
            UpTimeTotals {
                measured: d(55),
                any_up: d(30),
                all_up: d(20),
                // 3·10 + 2·10 + 0·10 + 3·10 + 0·15 = 80 replica-seconds.
                replica_up_ns: 80 * u128::from(NS_PER_S),
                replica_ns: 165 * u128::from(NS_PER_S),
                outages: 2,
                // 20–30 s, and 40–55 s still going on.
                longest_outage: d(15),
            }
        );
        assert_eq!(t.down(), d(25));
        assert!((t.any_up_fraction() - 30.0 / 55.0).abs() < 1e-15);
        assert!((t.all_up_fraction() - 20.0 / 55.0).abs() < 1e-15);
        assert!((t.replica_fraction() - 80.0 / 165.0).abs() < 1e-15);
        // Reading the totals changes nothing.
        assert_eq!(scripted().totals(s(55)), t);
    }

    #[test]
    fn up_time_restarts_at_the_end_of_the_warm_up() {
        let mut u = scripted();
        u.restart(s(45)); // during the outage that began at 40 s
        u.set_up_replicas(s(50), 1);
        let t = u.totals(s(60));
        assert_eq!(t.measured, d(15));
        assert_eq!(t.any_up, d(10));
        assert_eq!(t.all_up, d(0));
        assert_eq!(t.replica_up_ns, 10 * u128::from(NS_PER_S));
        assert_eq!(t.replica_ns, 45 * u128::from(NS_PER_S));
        assert_eq!(t.outages, 1);
        assert_eq!(t.longest_outage, d(5));
    }

    #[test]
    fn up_time_clamps_counts_and_ignores_time_going_backwards() {
        let mut u = UpTime::new(s(0), 5, 2);
        assert_eq!(u.up(), 2);
        u.set_up_replicas(s(10), 7);
        u.set_up_replicas(s(5), 1); // earlier than the last update: no time passes
        let t = u.totals(s(20));
        assert_eq!(t.measured, d(20));
        assert_eq!(t.replica_up_ns, 30 * u128::from(NS_PER_S));
        assert_eq!(t.all_up, d(10));
        // An empty window reads as fully available.
        let empty = UpTime::new(s(3), 0, 2).totals(s(3));
        assert_eq!(empty.any_up_fraction(), 1.0);
        assert_eq!(empty.outages, 1);
    }

    #[test]
    fn up_time_totals_merge_exactly() {
        let a = scripted().totals(s(55));
        let mut b = UpTime::new(s(0), 1, 1);
        b.set_up_replicas(s(10), 0);
        b.set_up_replicas(s(30), 1);
        let b = b.totals(s(40));
        let mut m = a.clone();
        m.merge(&b);
        assert_eq!(m.measured, d(95));
        assert_eq!(m.any_up, d(50));
        assert_eq!(m.all_up, d(40));
        assert_eq!(m.replica_up_ns, 100 * u128::from(NS_PER_S));
        assert_eq!(m.replica_ns, 205 * u128::from(NS_PER_S));
        assert_eq!(m.outages, 3);
        assert_eq!(m.longest_outage, d(20));
        let mut m2 = b.clone();
        m2.merge(&a);
        assert_eq!(m, m2);
    }
}

//! Faults: a scripted timeline of injected failures, and per-replica failure and repair
//! processes for long-horizon availability.
//!
//! This module validates and compiles the fault spec types of [`crate::spec`] ([`FaultSpec`],
//! [`FailureSpec`]) into plain
//! data ([`compile_faults`] → [`Fault`], [`compile_failures`] → [`FailureProcess`]),
//! reporting every problem with a path such as `faults[3].fault.factor` and a message that
//! quotes the value and says what to do. The engine drives the compiled faults; the samplers
//! of failure processes are in [`crate::failure`] ([`crate::failure::Renewal`]), and
//! time-based availability is measured by [`crate::metrics::uptime::UpTime`].
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

use super::compile::unknown_name;
use super::distributions::compile_dist;
use super::{ServiceId, TopicId};
use crate::dist::Dist;
use crate::error::{At, Problems};
use crate::failure::FailureProcess;
use crate::spec::{DistSpec, FailureSpec, FaultKindSpec, FaultSpec};
use crate::time::{parse_duration, SimDuration, SimTime};

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
        /// The topic.
        topic: TopicId,
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

/// Validates and compiles the `faults` list. Every problem goes to `problems`, at paths like
/// `faults[3].fault.factor`; the faults that passed are returned, in file order (so the
/// result is complete only when no problem was found).
pub fn compile_faults(
    specs: &[FaultSpec],
    targets: &FaultTargets<'_>,
    problems: &mut Problems,
) -> Vec<Fault> {
    specs
        .iter()
        .enumerate()
        .filter_map(|(i, spec)| {
            compile_fault(spec, targets, &mut problems.at(format!("faults[{i}]")))
        })
        .collect()
}

/// One fault at `at`: its times, then what it does (its target first), then its label.
fn compile_fault(spec: &FaultSpec, t: &FaultTargets<'_>, at: &mut At<'_>) -> Option<Fault> {
    let before = at.found();
    let start = fault_start(spec, t, at);
    let lasts = duration(&mut at.at("lasts"), &spec.lasts);
    if lasts == Some(SimDuration::ZERO) {
        at.at("lasts").push_with_hint(
            format!(
                "lasts: \"{}\" is no time at all, so the fault would never take effect",
                spec.lasts
            ),
            "give a positive duration such as \"30s\"",
        );
    }
    let (kind, label) = fault_kind(&spec.fault, t, &mut at.at("fault"))?;
    if at.found() > before {
        return None;
    }
    let start = SimTime(start?.as_nanos());
    Some(Fault {
        start,
        end: start.after(lasts?),
        kind,
        label,
    })
}

/// `at`: a duration before the end of the run.
fn fault_start(spec: &FaultSpec, t: &FaultTargets<'_>, at: &mut At<'_>) -> Option<SimDuration> {
    let mut at = at.at("at");
    let start = duration(&mut at, &spec.at)?;
    if start >= t.duration {
        at.push_with_hint(
            format!(
                "the fault starts at \"{}\", at or after the end of the run ({}), so it would never happen",
                spec.at, t.duration
            ),
            "start it earlier or lengthen run.duration",
        );
    }
    Some(start)
}

/// What a fault does and its label; `fp` is the place of `fault`.
fn fault_kind(
    spec: &FaultKindSpec,
    t: &FaultTargets<'_>,
    fp: &mut At<'_>,
) -> Option<(FaultKind, String)> {
    let name = |id: ServiceId| t.services[id.0 as usize].0;
    match spec {
        FaultKindSpec::Crash { service, replicas } => {
            service_fault(t, fp, service, *replicas).map(|(service, replicas, of)| {
                (
                    FaultKind::Crash { service, replicas },
                    format!("crash {}{of}", name(service)),
                )
            })
        }
        FaultKindSpec::Hang { service, replicas } => {
            service_fault(t, fp, service, *replicas).map(|(service, replicas, of)| {
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
            let target = service_fault(t, fp, service, *replicas);
            if !factor.is_finite() || *factor <= 0.0 {
                fp.at("factor").push_with_hint(
                    format!("factor must be a finite number > 0, not {factor}"),
                    "10.0 makes the work ten times slower",
                );
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
            let target = service_fault(t, fp, service, *replicas);
            if !(0.0..=1.0).contains(errors) {
                fp.at("errors").push_with_hint(
                    format!("errors is a probability between 0 and 1, not {errors}"),
                    "0.5 fails half of the requests",
                );
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
            edge_fault(t, fp, "a partition", from, to).map(|(from, to)| {
                (
                    FaultKind::Partition { from, to },
                    format!("partition {} → {}", name(from), name(to)),
                )
            })
        }
        FaultKindSpec::Latency { from, to, add } => {
            let edge = edge_fault(t, fp, "extra latency", from, to);
            let add = dist(&mut fp.at("add"), add);
            let ((from, to), add) = (edge?, add?);
            let amount = match add {
                Dist::Zero => "+0s".to_string(),
                Dist::Const(ns) => format!("+{}", SimDuration(ns)),
                ref d => format!("+~{}", SimDuration(d.mean_ns().round() as u64)),
            };
            let label = format!("latency {} → {} {amount}", name(from), name(to));
            Some((FaultKind::Latency { from, to, add }, label))
        }
        FaultKindSpec::BrokerDown => Some((FaultKind::BrokerDown, "broker down".to_string())),
        FaultKindSpec::LeaderDown { topic, partition } => leader_down(t, fp, topic, *partition),
        FaultKindSpec::BrokerSlow { add } => {
            let add = dist(&mut fp.at("add"), add)?;
            let label = format!(
                "broker slow +~{}",
                SimDuration(add.mean_ns().round() as u64)
            );
            Some((FaultKind::BrokerSlow { add }, label))
        }
    }
}

/// Resolves the service and checks the replica count of a service fault; returns the id,
/// the count and a label suffix such as ` (1 of 2)`.
fn service_fault(
    t: &FaultTargets<'_>,
    fp: &mut At<'_>,
    service: &str,
    replicas: Option<u32>,
) -> Option<(ServiceId, Option<u32>, String)> {
    let id = resolve(t, &mut fp.at("service"), service)?;
    let total = t.services[id.0 as usize].1;
    match replicas {
        None => Some((id, None, String::new())),
        Some(0) => {
            fp.at("replicas").push_with_hint(
                "replicas must be at least 1, not 0",
                format!("leave `replicas` out to affect every replica of `{service}`"),
            );
            None
        }
        Some(k) if k > total => {
            fp.at("replicas").push_with_hint(
                format!(
                    "`{service}` has {total} replica{}, so a fault cannot affect {k}",
                    if total == 1 { "" } else { "s" }
                ),
                format!("give at most {total}, or leave `replicas` out to affect them all"),
            );
            None
        }
        Some(k) => Some((id, Some(k), format!(" ({k} of {total})"))),
    }
}

/// Resolves both ends of an edge fault and checks that a sync call runs along it.
fn edge_fault(
    t: &FaultTargets<'_>,
    fp: &mut At<'_>,
    what: &str,
    from: &str,
    to: &str,
) -> Option<(ServiceId, ServiceId)> {
    let f = resolve(t, &mut fp.at("from"), from);
    let d = resolve(t, &mut fp.at("to"), to);
    let (f, d) = (f?, d?);
    if f == d {
        fp.at("to").push(format!(
            "`from` and `to` are both `{from}`; {what} acts on the calls between two different services"
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
        fp.at("to").push_with_hint(
            format!("`{from}` makes no sync call to `{to}`, so {what} there would change nothing ({known})"),
            "name an edge that has calls",
        );
        return None;
    }
    Some((f, d))
}

/// A `LeaderDown` fault: a known topic and one of its partitions.
fn leader_down(
    t: &FaultTargets<'_>,
    fp: &mut At<'_>,
    topic: &str,
    partition: u32,
) -> Option<(FaultKind, String)> {
    let Some(i) = t.topics.iter().position(|(n, _)| *n == topic) else {
        let known: Vec<&str> = t.topics.iter().map(|(n, _)| *n).collect();
        let when_empty = "no topics are defined (add them under `topics:`)";
        fp.at("topic")
            .add(unknown_name("topic", topic, &known, when_empty));
        return None;
    };
    let partitions = t.topics[i].1;
    if partition >= partitions {
        fp.at("partition").push(format!(
            "`{topic}` has {partitions} partition(s), numbered from 0, so there is no partition {partition}"
        ));
        return None;
    }
    Some((
        FaultKind::LeaderDown {
            topic: TopicId(i as u32),
            partition,
        },
        format!("leader down {topic}[{partition}]"),
    ))
}

/// The id of service `name`, or a problem with a suggestion.
fn resolve(t: &FaultTargets<'_>, at: &mut At<'_>, name: &str) -> Option<ServiceId> {
    if let Some(i) = t.services.iter().position(|(n, _)| *n == name) {
        return Some(ServiceId(i as u32));
    }
    let known: Vec<&str> = t.services.iter().map(|(n, _)| *n).collect();
    at.add(unknown_name(
        "service",
        name,
        &known,
        "no services are defined",
    ));
    None
}

/// A duration as written, or a problem at `at`.
fn duration(at: &mut At<'_>, text: &str) -> Option<SimDuration> {
    parse_duration(text)
        .map_err(|e| at.push(e.to_string()))
        .ok()
}

/// A distribution, or a problem at its offending parameter inside `at`.
fn dist(at: &mut At<'_>, spec: &DistSpec) -> Option<Dist> {
    match compile_dist(spec) {
        Ok(d) => Some(d),
        Err(p) => {
            at.add(p);
            None
        }
    }
}

/// A number with at most three decimals and no trailing zeros (`10`, `2.5`, `7`).
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Validates and compiles a service's `failures`, at `at` (e.g. `services[payment].failures`).
/// `None` when there was a problem.
pub fn compile_failures(spec: &FailureSpec, at: &mut At<'_>) -> Option<FailureProcess> {
    let ttf = time_of(
        at,
        ("mttf", spec.mttf.as_deref()),
        ("failure", spec.failure.as_ref()),
    );
    let ttr = time_of(
        at,
        ("mttr", spec.mttr.as_deref()),
        ("repair", spec.repair.as_ref()),
    );
    Some(FailureProcess {
        time_to_failure: ttf?,
        time_to_repair: ttr?,
    })
}

/// One of the two times of a failure process, given by its mean (exponential) or by a
/// distribution, exactly once.
fn time_of(
    at: &mut At<'_>,
    (mean_field, mean): (&str, Option<&str>),
    (dist_field, dist_spec): (&str, Option<&DistSpec>),
) -> Option<Dist> {
    let (what, example) = if mean_field == "mttf" {
        ("time to failure", "4h")
    } else {
        ("time to repair", "3m")
    };
    match (mean, dist_spec) {
        (None, None) => {
            at.push(format!("a failure process needs a {what}: add `{mean_field}: \"{example}\"` (exponential with that mean) or a `{dist_field}:` distribution"));
            None
        }
        (Some(m), Some(_)) => {
            at.at(dist_field).push_with_hint(
                format!("give the {what} once: `{mean_field}: \"{m}\"` is short for `{dist_field}: Exp(mean: \"{m}\")`"),
                "remove one of them",
            );
            None
        }
        (Some(m), None) => {
            let mut at = at.at(mean_field);
            match duration(&mut at, m)? {
                SimDuration(0) => {
                    let message = format!("{mean_field} must be above 0, not \"{m}\"");
                    if mean_field == "mttf" {
                        at.push(format!(
                            "{message}; a replica would fail again the instant it is repaired"
                        ));
                    } else {
                        at.push_with_hint(
                            format!("{message}; a repair that takes no time is no failure at all"),
                            "remove `failures` instead",
                        );
                    }
                    None
                }
                d => Some(Dist::Exp {
                    mean: d.as_nanos() as f64,
                }),
            }
        }
        (None, Some(spec)) => {
            let mut at = at.at(dist_field);
            let d = dist(&mut at, spec)?;
            if d.mean_ns() > 0.0 {
                return Some(d);
            }
            at.push_with_hint(
                format!("the {what} is always 0"),
                format!("it must be above 0 on average, e.g. Exp(mean: \"{example}\")"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::Renewal;
    use crate::metrics::uptime::UpTime;
    use crate::rng::stream;
    use crate::spec::{FailureSpec, FaultSpec};
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
        let mut problems = Problems::new();
        let faults = compile_faults(&specs, &targets(), &mut problems);
        (faults, shown(problems))
    }

    /// Each problem as (path, message and hint as shown).
    fn shown(problems: Problems) -> Vec<(String, String)> {
        problems
            .iter()
            .map(|p| (p.path.clone(), p.text().into_owned()))
            .collect()
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
        let mut problems = Problems::new();
        let p = compile_failures(&spec, &mut problems.at("services[payment].failures"));
        (p, shown(problems))
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
}

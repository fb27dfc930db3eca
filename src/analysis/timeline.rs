//! The fault timeline as the shadow sees it: the measured window cut into phases at every
//! fault's start and end, and what the faults in force do to each service, call edge and the
//! broker during a phase ([`Conditions`]).
//!
//! Faults combine as the engine combines them (docs/format.md, *faults*): a replica is down
//! while any crash covers it, slowdown factors multiply, error probabilities combine as
//! independent causes, extra latencies add. Service faults act on the replicas with the
//! lowest indices, so a service's replicas fall into a few contiguous groups of equal state.

use super::Window;
use crate::dist::Dist;
use crate::model::faults::FaultKind;
use crate::model::{Balancer, Model, ServiceId};

/// A span of the measured window with one set of faults in force.
#[derive(Clone, Debug)]
pub(super) struct Phase {
    /// The span \[ns\].
    pub window: Window,
    /// Indices into [`Model::faults`] of the faults in force, in file order.
    pub faults: Vec<usize>,
}

/// The measured window cut at every start and end of a fault inside it; empty when no fault
/// overlaps the window (the steady shadow then covers it all).
pub(super) fn phases(model: &Model, window: Window) -> Vec<Phase> {
    let overlaps = |f: &crate::model::faults::Fault| {
        f.start.as_nanos() < window.to && f.end.as_nanos() > window.from
    };
    if !model.faults.iter().any(overlaps) {
        return Vec::new();
    }
    let mut cuts = vec![window.from, window.to];
    for f in &model.faults {
        for t in [f.start.as_nanos(), f.end.as_nanos()] {
            if t > window.from && t < window.to {
                cuts.push(t);
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| Phase {
            window: Window {
                from: w[0],
                to: w[1],
            },
            faults: model
                .faults
                .iter()
                .enumerate()
                .filter(|(_, f)| f.start.as_nanos() <= w[0] && f.end.as_nanos() >= w[1])
                .map(|(i, _)| i)
                .collect(),
        })
        .collect()
}

/// The state of a group of replicas during a phase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct ReplicaGroup {
    /// Replicas in the group.
    pub replicas: u32,
    /// Index of its first replica (the groups are contiguous, in index order).
    pub first: u32,
    /// Share of the service's requests the balancer sends to the group.
    pub share: f64,
    /// Crashed: requests routed here fail at once (`unavailable`).
    pub down: bool,
    /// Hung: requests routed here wait, taking no worker, until the hang ends.
    pub hung: bool,
    /// Multiplier of local work.
    pub slowdown: f64,
    /// Extra error probability of requests finished here.
    pub burst: f64,
}

impl ReplicaGroup {
    /// Whether the group serves requests (neither down nor hung).
    pub fn serves(&self) -> bool {
        !self.down && !self.hung
    }
}

/// What the faults in force do to the calls of one sync call step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct EdgeConditions {
    /// Requests and responses are lost (`Partition`): the caller waits until its timeout.
    pub cut: bool,
    /// Extra one-way latency: mean \[ns\] and variance \[ns²\] (`Latency`).
    pub extra_mean_ns: f64,
    /// See `extra_mean_ns`.
    pub extra_var_ns2: f64,
}

/// What the faults in force during a phase do, as the shadow's formulas take it.
#[derive(Clone, Debug)]
pub(super) struct Conditions {
    /// Per service ([`ServiceId`] order), its replicas grouped by state.
    pub services: Vec<Vec<ReplicaGroup>>,
    /// Per call step ([`Model::calls`] order).
    pub calls: Vec<EdgeConditions>,
    /// The whole broker is down.
    pub broker_down: bool,
    /// Per topic, its partitions without a leader.
    pub leaderless: Vec<u32>,
    /// Extra acknowledgement latency of every publish and send: mean \[ns\], variance \[ns²\].
    pub broker_extra: (f64, f64),
    /// How long a request that arrives during the phase and waits for its end (held by a
    /// hang, or a producer waiting for the broker) waits on average: half the phase \[ns\].
    pub held_ns: f64,
    /// Whether any fault is in force.
    pub faulty: bool,
}

impl Conditions {
    /// No fault in force.
    pub fn normal(model: &Model) -> Conditions {
        Conditions::during(model, &[], 0.0)
    }

    /// The faults `faults` (indices into [`Model::faults`]) in force during a phase of
    /// `length` ns.
    pub fn during(model: &Model, faults: &[usize], length: f64) -> Conditions {
        let kinds: Vec<&FaultKind> = faults.iter().map(|&i| &model.faults[i].kind).collect();
        // The service faults of each service (a pass over the faults, not one per service).
        let mut by_service: Vec<Vec<&FaultKind>> = vec![Vec::new(); model.services.len()];
        for k in &kinds {
            if let FaultKind::Crash { service, .. }
            | FaultKind::Hang { service, .. }
            | FaultKind::Slowdown { service, .. }
            | FaultKind::ErrorBurst { service, .. } = k
            {
                by_service[service.0 as usize].push(k);
            }
        }
        let services = by_service
            .iter()
            .enumerate()
            .map(|(s, kinds)| replica_groups(model, ServiceId(s as u32), kinds))
            .collect();
        let calls = model
            .calls
            .iter()
            .map(|c| {
                let mut e = EdgeConditions {
                    cut: false,
                    extra_mean_ns: 0.0,
                    extra_var_ns2: 0.0,
                };
                for k in &kinds {
                    match k {
                        FaultKind::Partition { from, to } if *from == c.from && *to == c.to => {
                            e.cut = true;
                        }
                        FaultKind::Latency { from, to, add } if *from == c.from && *to == c.to => {
                            e.extra_mean_ns += add.mean_ns();
                            e.extra_var_ns2 += variance(add);
                        }
                        _ => {}
                    }
                }
                e
            })
            .collect();
        let mut leaderless = vec![0u32; model.topics.len()];
        let mut broker_down = false;
        let mut broker_extra = (0.0, 0.0);
        for k in &kinds {
            match k {
                FaultKind::BrokerDown => broker_down = true,
                FaultKind::LeaderDown { topic, .. } => {
                    leaderless[topic.0 as usize] += 1;
                }
                FaultKind::BrokerSlow { add } => {
                    broker_extra.0 += add.mean_ns();
                    broker_extra.1 += variance(add);
                }
                _ => {}
            }
        }
        // Two faults on one partition leave it without a leader once.
        for (t, n) in leaderless.iter_mut().enumerate() {
            let mut parts: Vec<u32> = kinds
                .iter()
                .filter_map(|k| match k {
                    FaultKind::LeaderDown { topic, partition } if topic.0 as usize == t => {
                        Some(*partition)
                    }
                    _ => None,
                })
                .collect();
            parts.sort_unstable();
            parts.dedup();
            *n = (parts.len() as u32).min(model.topics[t].partitions);
        }
        Conditions {
            services,
            calls,
            broker_down,
            leaderless,
            broker_extra,
            held_ns: length / 2.0,
            faulty: !faults.is_empty(),
        }
    }

    /// The share of `service`'s requests routed to replicas that are down, and to replicas
    /// that hang.
    pub fn down_and_hung(&self, service: ServiceId) -> (f64, f64) {
        let mut down = 0.0;
        let mut hung = 0.0;
        for g in &self.services[service.0 as usize] {
            if g.down {
                down += g.share;
            } else if g.hung {
                hung += g.share;
            }
        }
        (down, hung)
    }

    /// The share of messages to destination `d` (see [`Model::destination_index`]) that the
    /// broker cannot take now: all while it is down; for a topic with leaderless partitions,
    /// the keyed messages of those partitions (keyless ones go to the other partitions)
    /// unless no partition has a leader.
    pub fn unreachable(&self, model: &Model, d: usize, keyed: bool) -> f64 {
        if self.broker_down {
            return 1.0;
        }
        let Some(&down) = self.leaderless.get(d) else {
            return 0.0;
        };
        let partitions = model.topics[d].partitions;
        if down == 0 {
            0.0
        } else if down >= partitions {
            1.0
        } else if keyed {
            f64::from(down) / f64::from(partitions)
        } else {
            0.0
        }
    }
}

/// The variance of a distribution \[ns²\].
pub(super) fn variance(d: &Dist) -> f64 {
    let m = d.mean_ns();
    d.scv() * m * m
}

/// The replicas of `service` grouped by the state the faults `kinds` leave them in, with the
/// share of requests its balancer sends to each group.
///
/// Round robin and random choice spread requests evenly over the replicas, whatever their
/// state. The least-outstanding balancer sends every request to a crashed replica when there
/// is one: it fails at once, so it has no request in flight, and ties go to the lowest index,
/// where crashes are. The power-of-two balancer picks a crashed replica whenever one of its two
/// candidates is crashed: with d of n replicas down, 1 − (n − d)(n − d − 1)/(n(n − 1)) of the
/// requests. Both are otherwise taken as even (slow replicas are not avoided).
fn replica_groups(model: &Model, service: ServiceId, kinds: &[&FaultKind]) -> Vec<ReplicaGroup> {
    let svc = model.service_at(service);
    let n = svc.replicas;
    // Cut points: 0, n, and every replica count a fault on this service names.
    let mut cuts = vec![0, n];
    for k in kinds {
        let replicas = match k {
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
            } if *s == service => *replicas,
            _ => continue,
        };
        if let Some(r) = replicas {
            cuts.push(r.min(n));
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut groups: Vec<ReplicaGroup> = cuts
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| {
            let (first, replicas) = (w[0], w[1] - w[0]);
            let mut g = ReplicaGroup {
                replicas,
                first,
                share: f64::from(replicas) / f64::from(n),
                down: false,
                hung: false,
                slowdown: 1.0,
                burst: 0.0,
            };
            let mut ok = 1.0;
            for k in kinds {
                if !k.affects_replica(service, first) {
                    continue;
                }
                match k {
                    FaultKind::Crash { .. } => g.down = true,
                    FaultKind::Hang { .. } => g.hung = true,
                    FaultKind::Slowdown { factor, .. } => g.slowdown *= factor,
                    FaultKind::ErrorBurst { errors, .. } => ok *= 1.0 - errors,
                    _ => {}
                }
            }
            g.burst = 1.0 - ok;
            if g.down {
                g.hung = false;
            }
            g
        })
        .collect();
    if groups.len() == 1 {
        // Every replica alike: all the requests (exactly 1, not n/n rounded).
        groups[0].share = 1.0;
    }
    let down: u32 = groups.iter().filter(|g| g.down).map(|g| g.replicas).sum();
    if down > 0 && down < n {
        let to_down = match svc.balancer {
            Balancer::RoundRobin | Balancer::Random => None,
            Balancer::LeastOutstanding => Some(1.0),
            Balancer::PowerOfTwo => {
                let (nf, up) = (f64::from(n), f64::from(n - down));
                Some(1.0 - up * (up - 1.0) / (nf * (nf - 1.0)))
            }
        };
        if let Some(to_down) = to_down {
            let up = n - down;
            for g in &mut groups {
                g.share = if g.down {
                    to_down * f64::from(g.replicas) / f64::from(down)
                } else {
                    (1.0 - to_down) * f64::from(g.replicas) / f64::from(up)
                };
            }
        }
    }
    groups
}

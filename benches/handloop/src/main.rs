//! The floor for `benches/compare.sh`: the reference queueing models M1–M3 (docs/semantics.md,
//! *Reference models M1–M3*) in the plainest event loop that simulates them. One binary heap of
//! (time, sequence) events, integer nanoseconds, FIFO M/M/c stations, Poisson arrivals, Markov
//! routing; no dispatch, no metrics, no allocation per customer.
//!
//! Usage: `handloop MODEL N SEED [M3_RON]`. Runs until the N-th customer leaves the network and
//! prints `RESULT tool=handloop model=MODEL n=N events=E sim_s=S mean_sojourn=MS` (events:
//! external arrivals + service completions; `sim_s`: wall time of the run, without reading the
//! file; mean sojourn in ms). M3's parameters are read from `topologies/m3.ron`.
use rand::{Rng, SeedableRng};
use rand_distr::Exp1;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{BinaryHeap, VecDeque};
use std::{cmp::Ordering, time::Instant};

/// A network of FIFO M/M/c stations. A routing table lists (cumulative probability, station);
/// a draw above the last entry leaves the network.
struct Net {
    servers: Vec<u32>,
    mean_service_ns: Vec<f64>,
    mean_gap_ns: f64,
    entry: Vec<(f64, usize)>,
    route: Vec<Vec<(f64, usize)>>,
}

/// An event: a service completion at `station` (`usize::MAX`: an external arrival) of the
/// customer that entered the network at `born`.
#[derive(PartialEq, Eq)]
struct Event {
    t: u64,
    seq: u64,
    station: usize,
    born: u64,
}
impl Ord for Event {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.t, other.seq).cmp(&(self.t, self.seq)) // reversed: BinaryHeap pops the earliest
    }
}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn pick(table: &[(f64, usize)], rng: &mut Xoshiro256PlusPlus) -> Option<usize> {
    match table {
        [] => None,
        [(p, s)] if *p >= 1.0 => Some(*s), // no draw for a sure hop
        _ => {
            let u: f64 = rng.random();
            table.iter().find(|(c, _)| u < *c).map(|&(_, s)| s)
        }
    }
}

struct Sim<'a> {
    net: &'a Net,
    rng: Xoshiro256PlusPlus,
    heap: BinaryHeap<Event>,
    seq: u64,
    busy: Vec<u32>,
    waiting: Vec<VecDeque<u64>>,
}

impl Sim<'_> {
    fn schedule(&mut self, t: u64, station: usize, born: u64) {
        self.seq += 1;
        let seq = self.seq;
        self.heap.push(Event {
            t,
            seq,
            station,
            born,
        });
    }
    fn exp_ns(&mut self, mean: f64) -> u64 {
        (self.rng.sample::<f64, _>(Exp1) * mean + 0.5) as u64
    }
    fn enter(&mut self, s: usize, now: u64, born: u64) {
        if self.busy[s] < self.net.servers[s] {
            self.busy[s] += 1;
            let done = now + self.exp_ns(self.net.mean_service_ns[s]);
            self.schedule(done, s, born);
        } else {
            self.waiting[s].push_back(born);
        }
    }
}

/// Runs until `n` customers have left; returns (events, mean sojourn in ns).
fn run(net: &Net, n: u64, seed: u64) -> (u64, f64) {
    let k = net.servers.len();
    let mut sim = Sim {
        net,
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        heap: BinaryHeap::with_capacity(64),
        seq: 0,
        busy: vec![0; k],
        waiting: vec![VecDeque::with_capacity(1024); k],
    };
    let first = sim.exp_ns(net.mean_gap_ns);
    sim.schedule(first, usize::MAX, 0);
    let (mut events, mut left, mut total_ns) = (0u64, 0u64, 0u64);
    while let Some(Event {
        t: now,
        station,
        born,
        ..
    }) = sim.heap.pop()
    {
        events += 1;
        if station == usize::MAX {
            let next = now + sim.exp_ns(net.mean_gap_ns);
            sim.schedule(next, usize::MAX, 0);
            let s = pick(&net.entry, &mut sim.rng).unwrap_or(0);
            sim.enter(s, now, now);
            continue;
        }
        match sim.waiting[station].pop_front() {
            Some(next_born) => {
                let done = now + sim.exp_ns(net.mean_service_ns[station]);
                sim.schedule(done, station, next_born);
            }
            None => sim.busy[station] -= 1,
        }
        match pick(&net.route[station], &mut sim.rng) {
            Some(to) => sim.enter(to, now, born),
            None => {
                left += 1;
                total_ns += now - born;
                if left == n {
                    break;
                }
            }
        }
    }
    (events, total_ns as f64 / n as f64)
}

/// The number after `key` in `line`, if `key` occurs.
fn num(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || ".e-+".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Cumulative table from (probability, station) pairs.
fn cumulative(pairs: impl Iterator<Item = (f64, usize)>) -> Vec<(f64, usize)> {
    let mut acc = 0.0;
    pairs
        .map(|(p, s)| {
            acc += p;
            (acc, s)
        })
        .collect()
}

/// M3 from `topologies/m3.ron`: entry rates (`per_second` of `send: "q<i>"`), stations
/// `"s<i>"` (`workers`, `Exp(mean: "<ns>ns")`, `Choice(probability: p`) and their weighted
/// `Send(queue: "q<j>")` branches. Queue q<i> feeds service s<i>.
fn m3(path: &str) -> Net {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut rate, mut servers, mut mean, mut stay) = (vec![], vec![], vec![], vec![]);
    let mut weights: Vec<Vec<(f64, usize)>> = vec![];
    for line in text.lines().map(str::trim) {
        if let (Some(r), Some(q)) = (num(line, "per_second: "), num(line, "send: \"q")) {
            rate.push(r);
            assert_eq!(q as usize, rate.len(), "entry points out of order");
        } else if let (Some(s), Some(c)) = (num(line, "\"s"), num(line, "workers: ")) {
            assert!(
                line.contains("ns\")") && line.starts_with("\"s"),
                "unexpected station line: {line}"
            );
            servers.push(c as u32);
            mean.push(num(line, "Exp(mean: \"").expect("exponential work"));
            stay.push(num(line, "probability: ").unwrap_or(0.0));
            weights.push(vec![]);
            assert_eq!(s as usize, servers.len(), "stations out of order");
        } else if let (Some(w), Some(q)) = (num(line, "weight: "), num(line, "queue: \"q")) {
            weights
                .last_mut()
                .expect("a branch outside a station")
                .push((w, q as usize - 1));
        }
    }
    let lambda: f64 = rate.iter().sum();
    assert!(
        servers.len() == 20 && rate.len() == 20,
        "{path}: expected 20 stations and entries"
    );
    let route = weights.iter().zip(&stay).map(|(ws, p)| {
        let sum: f64 = ws.iter().map(|(w, _)| w).sum();
        cumulative(ws.iter().map(|&(w, j)| (p * w / sum, j)))
    });
    Net {
        servers,
        mean_service_ns: mean,
        mean_gap_ns: 1e9 / lambda,
        entry: cumulative(rate.iter().enumerate().map(|(i, r)| (r / lambda, i))),
        route: route.collect(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: handloop m1|m2|m3 N SEED [path/to/m3.ron]";
    let (Some(model), Some(n), Some(seed)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let (n, seed): (u64, u64) = (n.parse().expect(usage), seed.parse().expect(usage));
    let net = match model.as_str() {
        // M/M/1: 800/s, 1 ms of work (topologies/mm1.ron).
        "m1" => Net {
            servers: vec![1],
            mean_service_ns: vec![1e6],
            mean_gap_ns: 1.25e6,
            entry: vec![(1.0, 0)],
            route: vec![vec![]],
        },
        // Five M/M/4 in tandem: 1000/s, 2.8 ms of work (topologies/m2.ron).
        "m2" => Net {
            servers: vec![4; 5],
            mean_service_ns: vec![2.8e6; 5],
            mean_gap_ns: 1e6,
            entry: vec![(1.0, 0)],
            route: (1..=5)
                .map(|j| if j < 5 { vec![(1.0, j)] } else { vec![] })
                .collect(),
        },
        "m3" => m3(args.get(4).map_or(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../topologies/m3.ron"),
            |s| s,
        )),
        other => panic!("unknown model {other}; {usage}"),
    };
    let start = Instant::now();
    let (events, mean_ns) = run(&net, n, seed);
    let sim_s = start.elapsed().as_secs_f64();
    let ms = mean_ns / 1e6;
    println!("RESULT tool=handloop model={model} n={n} events={events} sim_s={sim_s:.6} mean_sojourn={ms:.6}");
}

//! Strands: running a request's steps, one after the other, with child strands for the
//! branches of `Parallel` and `Choice`.

use super::broker::outage::Publish;
use super::event::Event;
use super::kernel::Key;
use super::observer::Hold;
use super::request::{CallProgress, Strand};
use super::simulation::Simulation;
use crate::model::{BlockId, Op};
use crate::outcome::Outcome;
use crate::time::SimDuration;
use rand::Rng;

impl Simulation<'_> {
    /// Runs a strand's steps until one has to wait (work, a call, children) or the block ends.
    pub(super) fn run_strand(&mut self, key: Key) {
        let model = self.model;
        loop {
            let Some(strand) = self.strands.get_mut(key) else {
                return;
            };
            let ops = model.block(strand.block);
            let Some(op) = ops.get(strand.idx as usize) else {
                if let Some((block, idx)) = strand.ret.take() {
                    // The end of a branch run inline: back to the steps after its Choice.
                    (strand.block, strand.idx) = (block, idx);
                    continue;
                }
                self.finish_strand(key, None);
                return;
            };
            strand.idx += 1;
            let job_key = strand.job;
            let (service, replica, customer) = match self.jobs.get(job_key) {
                Some(j) if !j.killed => (j.service, j.replica, j.customer),
                _ => {
                    self.abandon(key);
                    return;
                }
            };
            match op {
                Op::Publish(p) => {
                    let step = model.publish_at(*p);
                    let streams = &mut self.broker.producers[p.0 as usize];
                    if step.probability < 1.0
                        && streams.route_rng.random::<f64>() >= step.probability
                    {
                        continue;
                    }
                    let mut d = step
                        .latency
                        .as_ref()
                        .map_or(SimDuration::ZERO, |d| d.sample(&mut streams.latency_rng));
                    d = SimDuration(d.0 + self.broker_slowness().0);
                    if d > SimDuration::ZERO {
                        let publish = *p;
                        self.clock.after(
                            d,
                            Event::Published {
                                strand: key,
                                publish,
                            },
                        );
                        return;
                    }
                    match self.try_publish(*p, key, customer) {
                        Publish::Done => {}
                        Publish::Failed(outcome) => {
                            self.finish_strand(key, Some(outcome));
                            return;
                        }
                        Publish::Parked => return,
                    }
                }
                Op::Work(dist) => {
                    let svc = &mut self.services[service.0 as usize];
                    let mut d = dist.sample(&mut svc.work_rng);
                    let slowdown = svc.replicas[replica as usize].slowdown;
                    if slowdown != 1.0 {
                        d = SimDuration((d.0 as f64 * slowdown).round() as u64);
                    }
                    if d > SimDuration::ZERO {
                        self.begin_work(key, job_key, service, replica, d);
                        return;
                    }
                }
                Op::Call(cid) => {
                    let cid = *cid;
                    let call = model.call_edge(cid);
                    if call.probability < 1.0
                        && self.calls[cid.0 as usize].route_rng.random::<f64>() >= call.probability
                    {
                        continue;
                    }
                    strand.call = Some(CallProgress::new(cid, self.clock.now, replica));
                    self.observer.call_started(cid, self.clock.now);
                    let edge = &mut self.calls[cid.0 as usize].per_replica[replica as usize];
                    if let Some(b) = &mut edge.budget {
                        b.on_request_start();
                    }
                    self.start_attempt(key);
                    return;
                }
                Op::Parallel {
                    branches,
                    probability,
                } => {
                    if *probability < 1.0
                        && self.services[service.0 as usize].route_rng.random::<f64>()
                            >= *probability
                    {
                        continue;
                    }
                    if branches.len() > 1 {
                        self.set_holding(job_key, Hold::FANOUT);
                        if let Some(j) = self.jobs.get_mut(job_key) {
                            j.fanout += 1;
                        }
                        if let Some(s) = self.strands.get_mut(key) {
                            s.fanout = true;
                        }
                    }
                    if !self.spawn(key, job_key, branches.iter().copied()) {
                        return;
                    }
                    self.joined(key);
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
                Op::Choice {
                    branches,
                    probability,
                } => {
                    let rng = &mut self.services[service.0 as usize].route_rng;
                    if *probability < 1.0 && rng.random::<f64>() >= *probability {
                        continue;
                    }
                    let u: f64 = rng.random();
                    let pick = branches
                        .iter()
                        .find(|(cum, _)| u < *cum)
                        .or(branches.last())
                        .map(|&(_, b)| b);
                    let Some(pick) = pick else { continue };
                    if let Some(s) = self.strands.get_mut(key).filter(|s| s.ret.is_none()) {
                        // One branch runs after the other on the same strand: no child
                        // strand needed, unless this strand is inside a branch already.
                        s.ret = Some((s.block, s.idx));
                        (s.block, s.idx) = (pick, 0);
                        continue;
                    }
                    if !self.spawn(key, job_key, std::iter::once(pick)) {
                        return;
                    }
                    if let Some(f) = self.strands.get(key).and_then(|s| s.failure) {
                        self.finish_strand(key, Some(f));
                        return;
                    }
                }
            }
        }
    }

    /// Starts a child strand per block; true if they all ended at once (the parent goes on).
    pub(super) fn spawn(
        &mut self,
        parent: Key,
        job: Key,
        blocks: impl Iterator<Item = BlockId>,
    ) -> bool {
        // One extra pending count while spawning, so that a child ending at once does not
        // resume the parent from inside this loop.
        if let Some(p) = self.strands.get_mut(parent) {
            p.pending = 1;
        }
        for block in blocks {
            if let Some(p) = self.strands.get_mut(parent) {
                p.pending += 1;
            }
            let child = self.strands.insert(Strand::new(job, block, Some(parent)));
            self.run_strand(child);
        }
        match self.strands.get_mut(parent) {
            Some(p) => {
                p.pending -= 1;
                p.pending == 0
            }
            None => false,
        }
    }

    /// The children of strand `key` have all ended: a fan-out no longer holds the worker.
    pub(super) fn joined(&mut self, key: Key) {
        let Some(s) = self.strands.get_mut(key) else {
            return;
        };
        if std::mem::replace(&mut s.fanout, false) {
            if let Some(j) = self.jobs.get_mut(s.job) {
                j.fanout -= 1;
            }
        }
    }

    /// A strand has ended, successfully (`failure == None`) or not.
    pub(super) fn finish_strand(&mut self, key: Key, failure: Option<Outcome>) {
        let Some(strand) = self.strands.remove(key) else {
            return;
        };
        let Some(parent_key) = strand.parent else {
            self.complete_job(strand.job, failure);
            return;
        };
        let Some(parent) = self.strands.get_mut(parent_key) else {
            return;
        };
        if parent.failure.is_none() {
            parent.failure = failure;
        }
        parent.pending -= 1;
        if parent.pending == 0 {
            self.joined(parent_key);
            let Some(parent) = self.strands.get(parent_key) else {
                return;
            };
            match parent.failure {
                Some(f) => self.finish_strand(parent_key, Some(f)),
                None => self.run_strand(parent_key),
            }
        }
    }
}

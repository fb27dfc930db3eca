//! The sync call graph: a node per service, an edge per call step, and no cycle in it.
//!
//! Checked last, once every call is compiled: a cycle of sync calls would deadlock (each
//! caller holds a worker while it waits on the next). Every cycle is reported, one per
//! strongly connected component, so that independent cycles show at once; each at the call
//! that closes it.

use super::Compiler;
use crate::model::{CallEdge, CallId, Service, ServiceId};
use petgraph::graph::DiGraph;
use petgraph::visit::EdgeRef;
use std::collections::VecDeque;

impl Compiler<'_> {
    /// The call graph of `services` and the calls compiled so far; a problem per cycle.
    pub(super) fn call_graph(&mut self, services: &[Service]) -> DiGraph<ServiceId, CallId> {
        let mut graph = DiGraph::with_capacity(services.len(), self.calls.len());
        let nodes: Vec<_> = (0..services.len())
            .map(|i| graph.add_node(ServiceId(i as u32)))
            .collect();
        for (k, call) in self.calls.iter().enumerate() {
            graph.add_edge(
                nodes[call.from.0 as usize],
                nodes[call.to.0 as usize],
                CallId(k as u32),
            );
        }
        for (names, closing) in call_cycles(&graph, &self.calls) {
            let names: Vec<&str> = names.iter().map(|&i| services[i].name.as_str()).collect();
            let path = self.calls[closing.0 as usize].path.clone();
            self.at(&path).push_with_hint(
                format!(
                    "sync call cycle {} would deadlock (each caller holds a worker while waiting on the next)",
                    names.join(" → ")
                ),
                "break the cycle, e.g. make one hop an async publish",
            );
        }
        graph
    }
}

/// One cycle per strongly connected component of the call graph that has one (more than one
/// service, or a service that calls itself), in file order of their first service: the
/// services on a shortest cycle through that first service (repeated at the end) and the call
/// that closes it, back into the first service.
fn call_cycles(
    graph: &DiGraph<ServiceId, CallId>,
    calls: &[CallEdge],
) -> Vec<(Vec<usize>, CallId)> {
    let mut cycles = Vec::new();
    let mut in_scc = vec![usize::MAX; graph.node_count()];
    let mut sccs = petgraph::algo::tarjan_scc(graph);
    for scc in &mut sccs {
        scc.sort();
    }
    sccs.sort();
    for (k, scc) in sccs.iter().enumerate() {
        for v in scc {
            in_scc[v.index()] = k;
        }
    }
    for (k, scc) in sccs.iter().enumerate() {
        let start = scc[0];
        let self_loop = graph.edges(start).any(|e| e.target() == start);
        if scc.len() == 1 && !self_loop {
            continue;
        }
        // Breadth-first from the first service, along calls in file order and inside the
        // component, until a call leads back to it.
        let mut parent: Vec<Option<(usize, CallId)>> = vec![None; graph.node_count()];
        let mut frontier = VecDeque::from([start]);
        let mut closing = None;
        'search: while let Some(v) = frontier.pop_front() {
            let mut out: Vec<_> = graph.edges(v).collect();
            out.sort_by_key(|e| *e.weight());
            for e in out {
                let w = e.target();
                if w == start {
                    closing = Some((v, *e.weight()));
                    break 'search;
                }
                if in_scc[w.index()] == k && parent[w.index()].is_none() {
                    parent[w.index()] = Some((v.index(), *e.weight()));
                    frontier.push_back(w);
                }
            }
        }
        // A component with more than one node always has a cycle through each of its nodes.
        let Some((last, call)) = closing else {
            continue;
        };
        let mut names = vec![start.index()];
        let mut v = last.index();
        while v != start.index() {
            names.push(v);
            v = parent[v].map_or(start.index(), |(p, _)| p);
        }
        names[1..].reverse();
        names.push(start.index());
        debug_assert_eq!(calls[call.0 as usize].to.0 as usize, start.index());
        cycles.push((names, call));
    }
    cycles
}

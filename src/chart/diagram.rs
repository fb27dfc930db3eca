//! The topology diagram: entry points, services, sync calls, topics and work queues, laid out
//! in layers from left to right by call depth and drawn from a [`Report`] alone.
//!
//! Services are boxes coloured by the worse of their simulated availability and their peak
//! utilization (see [`Node::health`]), labelled with their name, `replicas × workers`, their
//! utilization ρ (also a small bar, and the peak when notably higher) and availability; a
//! service that a fault of the timeline names is outlined in vermillion with the fault above
//! it. Sync call edges are marked with the attempts per call when retries added load and the
//! share of calls that failed (in vermillion above 1 %); a consumer group's subscribe edge,
//! or a work queue's, with its largest lag or depth when a message waited over a second.
//! Entry points are small pills on the left; topics are parallelograms with
//! their partition count; work queues are horizontal cylinders ("pipes", the open end facing
//! right, in the topics' colours) with their number of competing consumers. Sync calls are
//! solid arrows (several call steps between the same pair are one arrow marked `×n`);
//! publishing and subscribing are dashed arrows through the topic, and sending and consuming
//! dashed arrows through the queue, from the services that send to it to the service that
//! consumes it ([`EdgeKind::Publish`] and [`EdgeKind::Subscribe`] too). An entry point's
//! arrow goes to what its clients send to: a service, or straight to a topic or a queue. The
//! legend keys the work queue's shape only when the diagram has queues.
//!
//! # Layout
//! A small layered (Sugiyama-style) layout, computed by [`layout`] as a pure function so that
//! its geometry can be tested. Every step is deterministic (vectors, stable sorts, no hash
//! order), so the same report gives byte-identical SVG.
//!
//! 1. **Graph.** One node per entry point, service, topic and work queue (a repeated name of
//!    a kind counts once); one edge per entry point (to its service, topic or queue), per
//!    caller–callee pair of sync call steps (merged, with their count), per publisher of a
//!    topic, per subscribing service, per service sending to a queue and per queue (to its
//!    consuming service).
//! 2. **Layers.** The sync call graph is acyclic (the model rejects sync cycles), but through
//!    topics and queues a service may send to a topic or queue it consumes, directly or not.
//!    Sync and entry edges are all kept (a depth-first search drops the back edges of a
//!    hand-made report with a sync cycle); topic and queue edges are then added one at a
//!    time, those nearest to the entry points first, and one that would close a cycle is
//!    *reversed*: drawn right to left and ignored by the layering. A node's layer is its
//!    longest path from the entry points (layer 0), so a callee is always right of its
//!    callers, and a topic or queue right of its senders and left of its consumers unless
//!    that edge was reversed. (A network where every station may send to every other, like
//!    `topologies/m3.ron`, becomes one long chain: any acyclic part of it orders the
//!    stations.)
//! 3. **Virtual nodes.** An edge spanning several layers passes through a virtual point in
//!    each layer between, so that it is routed through free slots of the columns instead of
//!    behind nodes.
//! 4. **Order.** Within each layer, nodes are ordered to reduce edge crossings by the
//!    barycenter heuristic: sweeps down and up, each moving every node to the mean position
//!    of its neighbours in the layer before; the order with the fewest crossings is kept.
//! 5. **Coordinates.** Each layer is a column as wide as its widest node; the gap between
//!    columns widens with the number of edges crossing it. Within a column, nodes are pulled
//!    to the mean height of their neighbours subject to a minimum separation (an isotonic
//!    regression solved exactly by pool-adjacent-violators), so nodes never overlap and edges
//!    run as straight as the order allows. Edges are straight inside columns and cubic Béziers
//!    with horizontal tangents in the gaps, so they never pass behind a node.
//!
//! Labels longer than their box are cut with an ellipsis, by a conservative estimate of the
//! text width ([`text_width`]): the renderer's fonts are unknown.

use super::{palette, Chart};

/// `text` escaped for SVG text and attribute values.
fn esc(text: &str) -> String {
    super::escape_markup(text, "&apos;")
}
use crate::report::{Report, TargetKind};
use plotters::style::RGBColor;
use std::collections::{btree_map, BTreeMap, VecDeque};
use std::fmt::Write;

/// Availability at or below this is drawn in the worst colour (vermillion); from here to 1 the
/// colour runs linearly through yellow (halfway) to green. The availabilities worth telling
/// apart lie between 0.9 and 1: a scale over \[0, 1\] would paint them all green.
pub const AVAILABILITY_FLOOR: f64 = 0.9;

/// Peak utilization at or below this is drawn green; from here to [`UTILIZATION_CEILING`] the
/// colour runs through yellow to vermillion. A service is coloured by the worse of its
/// availability and its peak utilization, so that the slowed leaf at the root of a cascade,
/// which answers everything but runs out of workers, shows as the problem it is.
pub const UTILIZATION_CALM: f64 = 0.5;

/// Peak utilization at or above this is drawn in the worst colour.
pub const UTILIZATION_CEILING: f64 = 0.95;

/// A sync call edge is marked as failing (drawn in vermillion, with the share that failed)
/// when more than this share of its calls did not succeed.
const FAILING_SHARE: f64 = 0.01;

/// A consumer group whose oldest message waited longer than this \[s\] had a backlog: its
/// subscribe edge is drawn in vermillion with the largest lag.
const BACKLOG_S: f64 = 1.0;

/// Colour of edges that went wrong.
const BAD_COLOUR: RGBColor = palette::VERMILLION;

/// The file name of the diagram.
pub const FILE: &str = "topology.svg";

/// Margin around the drawing \[px\].
const MARGIN: f64 = 24.0;
/// Height of the title block above the nodes \[px\].
const HEADER: f64 = 64.0;
/// Height of the legend below the nodes \[px\].
const LEGEND_H: f64 = 62.0;
/// Space between the lowest node and the legend \[px\].
const LEGEND_GAP: f64 = 28.0;
/// Service box height \[px\].
const SERVICE_H: f64 = 62.0;
/// Topic box height \[px\].
const TOPIC_H: f64 = 44.0;
/// Entry point pill height \[px\].
const ENTRY_H: f64 = 28.0;
/// Height reserved for an edge passing through a column \[px\].
const VIRTUAL_H: f64 = 6.0;
/// Horizontal offset of a topic parallelogram's slanted sides \[px\].
const SKEW: f64 = 10.0;
/// Horizontal padding between a box's side and its text \[px\].
const PAD: f64 = 8.0;
/// Horizontal radius of the elliptic ends of a queue's cylinder \[px\].
const QUEUE_CAP: f64 = 7.0;
/// Room between a queue's sides and its text \[px\]: the open end on the right takes two cap
/// radii.
const QUEUE_INSET: f64 = 2.0 * QUEUE_CAP + PAD / 2.0;
/// Vertical gap between two boxes in a column \[px\].
const NODE_GAP: f64 = 16.0;
/// Vertical gap next to an edge passing through a column \[px\].
const VIRTUAL_GAP: f64 = 8.0;
/// Length of an arrowhead \[px\].
const ARROW: f64 = 8.0;
/// Barycenter sweeps (each one down and one up).
const SWEEPS: usize = 12;
/// Rounds of vertical placement (each one down and one up).
const PLACEMENT_ROUNDS: usize = 8;
/// Font size of the title \[px\].
const TITLE_SIZE: f64 = 16.0;
/// Font size of a service's name (bold) \[px\].
const NAME_SIZE: f64 = 13.0;
/// Font size of a topic's name (bold) \[px\].
const TOPIC_NAME_SIZE: f64 = 12.0;
/// Font size of an entry point's name \[px\].
const ENTRY_SIZE: f64 = 12.0;
/// Font size of the other lines in boxes, and of the legend \[px\].
const DETAIL_SIZE: f64 = 11.0;
/// Font size of the `×n` marks and the legend's ticks \[px\].
const SMALL_SIZE: f64 = 10.0;
/// Colour of text.
const INK: &str = "#1a1a1a";
/// Colour of secondary text and the utilization bars.
const MUTED: &str = "#555555";
/// Colour of sync call edges.
const SYNC_COLOUR: &str = "#333333";
/// Colour of entry point edges and pills.
const ENTRY_COLOUR: &str = "#777777";

/// What a node of the diagram stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    /// An entry point of the workload (a small pill in the first column).
    Entry,
    /// A service (a box coloured by availability).
    Service,
    /// A topic of the broker (a parallelogram).
    Topic,
    /// A work queue of the broker (a horizontal cylinder).
    Queue,
}

/// What an edge of the diagram stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// An entry point sends its requests to a service, or its clients publish to a topic or
    /// send to a queue.
    Entry,
    /// Sync call steps from a caller to a callee (solid).
    Sync,
    /// A service publishes to a topic or sends to a work queue (dashed).
    Publish,
    /// A service consumes a topic in its consumer group, or a work queue is consumed by its
    /// service (dashed).
    Subscribe,
}

/// An axis-aligned rectangle \[px\], `y` growing downwards as in SVG.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    /// Left side.
    pub x: f64,
    /// Top side.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// The right side.
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    /// The bottom side.
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// Whether the two rectangles come closer than `margin` to each other (overlapping ones
    /// always do), for checking that nodes keep apart.
    pub fn overlaps(&self, other: &Rect, margin: f64) -> bool {
        self.x < other.right() + margin
            && other.x < self.right() + margin
            && self.y < other.bottom() + margin
            && other.y < self.bottom() + margin
    }

    /// Whether `other` lies entirely inside this rectangle (touching its sides counts).
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }
}

/// One line of text, centred on `x`, as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The text, already cut to fit (it may end with `…`).
    pub text: String,
    /// Horizontal centre \[px\].
    pub x: f64,
    /// Baseline \[px\].
    pub y: f64,
    /// Font size \[px\].
    pub size: f64,
    /// Bold.
    pub bold: bool,
}

impl Label {
    /// The estimated width of the text \[px\] (see [`text_width`]).
    pub fn width(&self) -> f64 {
        text_width(&self.text, self.size)
    }

    /// The estimated box the text covers: the width from [`Label::width`], from the ascent
    /// (0.8 em above the baseline) to the descent (0.25 em below), for checking that labels
    /// stay inside their nodes.
    pub fn extent(&self) -> Rect {
        let w = self.width();
        Rect {
            x: self.x - w / 2.0,
            y: self.y - 0.8 * self.size,
            w,
            h: 1.05 * self.size,
        }
    }
}

/// A node of the laid-out diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// What it stands for.
    pub kind: NodeKind,
    /// The full name (labels may be cut).
    pub name: String,
    /// Its layer (column), 0 at the left.
    pub layer: usize,
    /// Its box \[px\].
    pub rect: Rect,
    /// The lines of text drawn in it, top to bottom.
    pub labels: Vec<Label>,
    /// Services: the simulated availability, (ok + degraded) / all outcomes; `None` when no
    /// request ended there, and for other kinds.
    pub availability: Option<f64>,
    /// Services: the utilization ρ (`None` when not a finite number, and for other kinds).
    pub utilization: Option<f64>,
    /// Services: the peak utilization, the highest mean busy share over the slices of the
    /// run's timeline (see [`crate::metrics::slices`]); `None` without a time series.
    pub peak_utilization: Option<f64>,
    /// Services: how healthy the service looked, 0 (worst) to 1: the worse of its
    /// availability (1 at 100 %, 0 at [`AVAILABILITY_FLOOR`]) and its peak utilization (1 at
    /// [`UTILIZATION_CALM`], 0 at [`UTILIZATION_CEILING`]); it picks the box's colour.
    /// `None` when neither is known.
    pub health: Option<f64>,
    /// Services: the faults of the timeline that name it (crashes, slowdowns, error bursts),
    /// as a line drawn just above its box, and its box outlined in vermillion: the root
    /// cause of a cascade answers everything and may not look busy, but the fault names it.
    pub fault_mark: Option<Label>,
}

/// An edge of the laid-out diagram.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// What it stands for.
    pub kind: EdgeKind,
    /// The source node (index into [`Layout::nodes`]): the caller, the entry point, the
    /// publisher (or sender), or the subscribed topic (or consumed queue).
    pub from: usize,
    /// The target node: the callee, the entry point's service, topic or queue, the topic
    /// published to (or queue sent to), or the subscribing (or consuming) service.
    pub to: usize,
    /// Sync call steps merged into this edge (1 for other kinds).
    pub count: usize,
    /// Whether it closes a cycle through a topic or queue and so runs right to left (from
    /// the source's left side to the target's right side).
    pub reversed: bool,
    /// The route from the source's side to the arrow's tip \[px\]: consecutive points at the
    /// same height are joined by straight lines, others by cubic Béziers with horizontal
    /// tangents.
    pub points: Vec<[f64; 2]>,
    /// The mark on the edge, if any: for sync calls `×n` (merged call steps), the attempts
    /// per call when retries added load, and the share of calls that failed; for a consumer
    /// group with a backlog, its largest lag.
    pub label: Option<Label>,
    /// Whether what the edge carries went wrong (calls failing, a group lagging): drawn in
    /// vermillion.
    pub bad: bool,
}

/// The whole diagram's geometry, from [`layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// The title drawn at the top (cut to fit).
    pub title: Label,
    /// Canvas width \[px\].
    pub width: f64,
    /// Canvas height \[px\].
    pub height: f64,
    /// Number of layers (columns).
    pub layers: usize,
    /// Crossings between edges in adjacent layers after ordering (edges spanning several
    /// layers counted per gap), a measure of readability.
    pub crossings: usize,
    /// Entry points (file order), then services, then topics, then work queues; each name of
    /// a kind once.
    pub nodes: Vec<Node>,
    /// Entry edges, then sync edges (order of first call step), then publish and subscribe
    /// edges (topic by topic), then send and consume edges (queue by queue).
    pub edges: Vec<Edge>,
    /// Where the legend is drawn (below every node).
    pub legend: Rect,
}

/// The diagram of `report` as one chart, [`FILE`], or none when the report has no service.
pub fn render(report: &Report) -> Vec<Chart> {
    if report.services.is_empty() {
        return Vec::new();
    }
    let layout = layout(report);
    vec![Chart {
        file: FILE.to_string(),
        title: format!("Topology · {}", report.topology),
        svg: svg(&layout),
    }]
}

/// The estimated width \[px\] of `text` at font size `size` in a sans-serif font: at least
/// the real width in the common ones, bold included. Each character counts as the widest of
/// its class in DejaVu Sans Bold (the widest of them; the usual fallback on Linux), so that
/// Helvetica, Arial and Liberation Sans, which are narrower, fit too: `m w M W @ %` and
/// dashes 1.1 em, other capitals and non-ASCII letters 0.86, other lower-case letters and
/// symbols 0.72, digits 0.7, `t r f` 0.5, narrow letters, punctuation and spaces 0.46, and
/// East Asian (full-width) characters 1 em.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_em).sum::<f64>() * size
}

/// The estimated advance of `c` in em (see [`text_width`]).
fn char_em(c: char) -> f64 {
    match c {
        'm' | 'w' | 'M' | 'W' | '@' | '%' | '…' | '—' => 1.1,
        't' | 'r' | 'f' => 0.5,
        'i' | 'j' | 'l' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | '(' | ')' | '['
        | ']' | ' ' => 0.46,
        '0'..='9' => 0.7,
        'A'..='Z' => 0.86,
        c if c.is_ascii() => 0.72,
        c if u32::from(c) >= 0x1100 => 1.0,
        _ => 0.86,
    }
}

/// `text` cut with an ellipsis so that its estimated width at `size` is at most `max_w`.
fn fit(text: &str, size: f64, max_w: f64) -> String {
    if text_width(text, size) <= max_w {
        return text.to_string();
    }
    let budget = max_w - char_em('…') * size;
    let mut out = String::new();
    let mut used = 0.0;
    for c in text.chars() {
        let w = char_em(c) * size;
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    if budget < 0.0 {
        return String::new();
    }
    // No dangling space before the ellipsis.
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A name made safe to draw: control characters and non-characters (invalid in XML) become
/// U+FFFD.
fn clean(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

// ---- 1. the graph ------------------------------------------------------------------------

/// A node of the abstract graph, with what its box will say.
#[derive(Clone, Debug)]
struct GNode {
    kind: NodeKind,
    name: String,
    /// Services: `replicas × workers`; topics: the partitions; queues: the consumers.
    detail: String,
    /// Services: as in [`Node::availability`].
    availability: Option<f64>,
    /// Services: as in [`Node::utilization`].
    utilization: Option<f64>,
    /// Services: as in [`Node::peak_utilization`].
    peak_utilization: Option<f64>,
    /// Services: the labels of the faults that name it.
    faults: Vec<String>,
}

/// An edge of the abstract graph.
#[derive(Clone, Debug)]
struct GEdge {
    kind: EdgeKind,
    from: usize,
    to: usize,
    count: usize,
    /// What went wrong on it, beside `×n` (see [`Edge::label`]).
    note: Option<String>,
    /// As in [`Edge::bad`].
    bad: bool,
}

/// The abstract graph of a report: nodes (entries, services, topics, queues) and edges.
#[derive(Clone, Debug, Default)]
struct Graph {
    nodes: Vec<GNode>,
    edges: Vec<GEdge>,
}

impl Graph {
    /// The graph of `report` (see the module docs, step 1). Edges naming an unknown node and
    /// self-calls are left out: a report from the simulator has none.
    fn of(report: &Report) -> Graph {
        let mut g = Graph::default();
        let mut index: BTreeMap<(NodeKind, &str), usize> = BTreeMap::new();
        fn add<'r>(
            g: &mut Graph,
            index: &mut BTreeMap<(NodeKind, &'r str), usize>,
            key: (NodeKind, &'r str),
            node: GNode,
        ) {
            if let btree_map::Entry::Vacant(slot) = index.entry(key) {
                slot.insert(g.nodes.len());
                g.nodes.push(node);
            }
        }
        for e in &report.entries {
            add(
                &mut g,
                &mut index,
                (NodeKind::Entry, &e.name),
                GNode::plain(NodeKind::Entry, &e.name),
            );
        }
        for s in &report.services {
            let total = s.outcomes.total();
            let node = GNode {
                kind: NodeKind::Service,
                name: clean(&s.name),
                detail: format!("{} × {}", s.replicas, s.workers),
                availability: (total > 0).then(|| s.outcomes.available() as f64 / total as f64),
                utilization: s.utilization.is_finite().then_some(s.utilization),
                peak_utilization: peak_utilization(report, s),
                faults: report
                    .faults
                    .iter()
                    .filter(|f| names(&f.label, &s.name))
                    .map(|f| f.label.clone())
                    .collect(),
            };
            add(&mut g, &mut index, (NodeKind::Service, &s.name), node);
        }
        for t in &report.topics {
            let mut node = GNode::plain(NodeKind::Topic, &t.name);
            node.detail = if t.partitions == 1 {
                "1 partition".to_string()
            } else {
                format!("{} partitions", t.partitions)
            };
            add(&mut g, &mut index, (NodeKind::Topic, &t.name), node);
        }
        for q in &report.queues {
            let mut node = GNode::plain(NodeKind::Queue, &q.name);
            node.detail = if q.consumers == 1 {
                "1 consumer".to_string()
            } else {
                format!("{} consumers", q.consumers)
            };
            add(&mut g, &mut index, (NodeKind::Queue, &q.name), node);
        }
        let find = |kind: NodeKind, name: &str| index.get(&(kind, name)).copied();
        let service = |name: &str| find(NodeKind::Service, name);

        // One edge per pair of nodes; repeated sync call steps are counted, other repeats
        // (a repeated entry point, publisher or group) ignored.
        let mut seen: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let mut edge = |g: &mut Graph, kind: EdgeKind, from: Option<usize>, to: Option<usize>| {
            let (Some(from), Some(to)) = (from, to) else {
                return;
            };
            if from == to {
                return;
            }
            if kind == EdgeKind::Entry && g.edges.iter().any(|e| e.from == from) {
                return;
            }
            match seen.get(&(from, to)) {
                Some(&i) if kind == EdgeKind::Sync => g.edges[i].count += 1,
                Some(_) => {}
                None => {
                    seen.insert((from, to), g.edges.len());
                    g.edges.push(GEdge {
                        kind,
                        from,
                        to,
                        count: 1,
                        note: None,
                        bad: false,
                    });
                }
            }
        };
        for e in &report.entries {
            let from = find(NodeKind::Entry, &e.name);
            let kind = match e.target {
                TargetKind::Service => NodeKind::Service,
                TargetKind::Topic => NodeKind::Topic,
                TargetKind::Queue => NodeKind::Queue,
            };
            edge(&mut g, EdgeKind::Entry, from, find(kind, &e.service));
        }
        for c in &report.calls {
            edge(&mut g, EdgeKind::Sync, service(&c.from), service(&c.to));
        }
        for t in &report.topics {
            let topic = find(NodeKind::Topic, &t.name);
            for p in &t.publishers {
                edge(&mut g, EdgeKind::Publish, service(p), topic);
            }
            for gr in &t.groups {
                edge(&mut g, EdgeKind::Subscribe, topic, service(&gr.service));
            }
        }
        // What went wrong on the sync edges (all call steps of a pair together) and the
        // subscribe edges.
        for e in &mut g.edges {
            let (a, b) = (&g.nodes[e.from].name, &g.nodes[e.to].name);
            match e.kind {
                EdgeKind::Sync => {
                    let steps = report
                        .calls
                        .iter()
                        .filter(|c| clean(&c.from) == *a && clean(&c.to) == *b);
                    let (mut calls, mut attempts, mut answered, mut failed) = (0, 0, 0, 0);
                    for c in steps {
                        calls += c.calls;
                        attempts += c.attempts;
                        answered += c.outcomes.total();
                        failed += c.outcomes.total() - c.outcomes.available();
                    }
                    let mut parts = Vec::new();
                    if calls > 0 && attempts as f64 > 1.005 * calls as f64 {
                        parts.push(format!(
                            "{} tries/call",
                            num2(attempts as f64 / calls as f64)
                        ));
                    }
                    let share = if answered > 0 {
                        failed as f64 / answered as f64
                    } else {
                        0.0
                    };
                    if share > FAILING_SHARE {
                        parts.push(format!("{} % failed", num2(100.0 * share)));
                        e.bad = true;
                    }
                    e.note = (!parts.is_empty()).then(|| parts.join(" · "));
                }
                EdgeKind::Subscribe if g.nodes[e.from].kind == NodeKind::Topic => {
                    let group = report
                        .topics
                        .iter()
                        .filter(|t| clean(&t.name) == *a)
                        .flat_map(|t| &t.groups)
                        .find(|gr| clean(&gr.service) == *b);
                    if let Some(gr) = group.filter(|gr| gr.max_time_lag_s > BACKLOG_S) {
                        e.note = Some(format!(
                            "max lag {} ({} s)",
                            gr.max_lag,
                            num2(gr.max_time_lag_s)
                        ));
                        e.bad = true;
                    }
                }
                EdgeKind::Subscribe => {
                    let queue = report
                        .queues
                        .iter()
                        .find(|q| clean(&q.name) == *a && clean(&q.service) == *b);
                    if let Some(q) = queue.filter(|q| q.max_age_s > BACKLOG_S) {
                        e.note = Some(format!(
                            "max depth {} ({} s)",
                            q.max_depth,
                            num2(q.max_age_s)
                        ));
                        e.bad = true;
                    }
                }
                _ => {}
            }
        }
        for q in &report.queues {
            let queue = find(NodeKind::Queue, &q.name);
            for p in &q.publishers {
                edge(&mut g, EdgeKind::Publish, service(p), queue);
            }
            edge(&mut g, EdgeKind::Subscribe, queue, service(&q.service));
        }
        g
    }
}

impl GNode {
    /// A node with a name only.
    fn plain(kind: NodeKind, name: &str) -> GNode {
        GNode {
            kind,
            name: clean(name),
            detail: String::new(),
            availability: None,
            utilization: None,
            peak_utilization: None,
            faults: Vec::new(),
        }
    }
}

// ---- 2. layers -----------------------------------------------------------------------------

/// The layer of every node and which edges are reversed (see the module docs, step 2).
#[derive(Clone, Debug, PartialEq)]
struct Layering {
    layer: Vec<usize>,
    reversed: Vec<bool>,
}

/// Layers by longest path from the entry points, reversing the topic and queue edges that
/// close cycles.
fn layering(g: &Graph) -> Layering {
    let n = g.nodes.len();
    let mut reversed = vec![false; g.edges.len()];
    let hard = |k: EdgeKind| matches!(k, EdgeKind::Entry | EdgeKind::Sync);

    // Sync and entry edges: drop the back edges of a depth-first search (none in a report
    // from a valid model).
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in g.edges.iter().enumerate() {
        if hard(e.kind) {
            out[e.from].push(i);
        }
    }
    let mut state = vec![0u8; n]; // 0 unseen, 1 on the stack, 2 done
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut stack = vec![(root, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&e) = out[v].get(next) {
                top.1 += 1;
                let w = g.edges[e].to;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in g.edges.iter().enumerate() {
        if hard(e.kind) && !reversed[i] {
            adj[e.from].push(e.to);
        }
    }

    // Topic and queue edges, nearest to the entry points first: keep those that close no
    // cycle.
    let dist = distances(g);
    let mut soft: Vec<usize> = (0..g.edges.len())
        .filter(|&i| !hard(g.edges[i].kind))
        .collect();
    soft.sort_by_key(|&i| (dist[g.edges[i].from], i));
    for i in soft {
        let e = &g.edges[i];
        if reaches(&adj, e.to, e.from) {
            reversed[i] = true;
        } else {
            adj[e.from].push(e.to);
        }
    }

    // Longest path, in a topological order (Kahn).
    let has_entries = g.nodes.iter().any(|v| v.kind == NodeKind::Entry);
    let mut layer: Vec<usize> = g
        .nodes
        .iter()
        .map(|v| usize::from(has_entries && v.kind != NodeKind::Entry))
        .collect();
    let mut indegree = vec![0usize; n];
    for targets in &adj {
        for &w in targets {
            indegree[w] += 1;
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    Layering { layer, reversed }
}

/// Breadth-first distance of every node from the entry points along all edges
/// (`usize::MAX` when unreachable).
fn distances(g: &Graph) -> Vec<usize> {
    let n = g.nodes.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &g.edges {
        out[e.from].push(e.to);
    }
    let mut dist = vec![usize::MAX; n];
    let mut queue = VecDeque::new();
    for (i, v) in g.nodes.iter().enumerate() {
        if v.kind == NodeKind::Entry {
            dist[i] = 0;
            queue.push_back(i);
        }
    }
    while let Some(v) = queue.pop_front() {
        for &w in &out[v] {
            if dist[w] == usize::MAX {
                dist[w] = dist[v] + 1;
                queue.push_back(w);
            }
        }
    }
    dist
}

/// Whether `to` can be reached from `from` along `adj`.
fn reaches(adj: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![from];
    seen[from] = true;
    while let Some(v) = stack.pop() {
        if v == to {
            return true;
        }
        for &w in &adj[v] {
            if !seen[w] {
                seen[w] = true;
                stack.push(w);
            }
        }
    }
    false
}

// ---- 3. virtual nodes ----------------------------------------------------------------------

/// The graph with every edge cut into spans between adjacent layers. Ids below the number of
/// graph nodes are the graph's nodes; the others are virtual points of long edges.
#[derive(Clone, Debug)]
struct Proper {
    /// Node ids per layer, in drawing order (top to bottom).
    layers: Vec<Vec<usize>>,
    /// Layer of every id.
    layer_of: Vec<usize>,
    /// Neighbours in the next layer.
    succ: Vec<Vec<usize>>,
    /// Neighbours in the previous layer.
    pred: Vec<Vec<usize>>,
    /// Per graph edge: its ids from the left end to the right end.
    chains: Vec<Vec<usize>>,
}

impl Proper {
    /// Cuts the edges of `g` at every layer they span.
    fn new(g: &Graph, l: &Layering) -> Proper {
        let n = g.nodes.len();
        let mut layer_of = l.layer.clone();
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut chains = Vec::with_capacity(g.edges.len());
        for (i, e) in g.edges.iter().enumerate() {
            let (a, b) = if l.reversed[i] {
                (e.to, e.from)
            } else {
                (e.from, e.to)
            };
            let mut chain = vec![a];
            if layer_of[a] < layer_of[b] {
                for k in layer_of[a] + 1..layer_of[b] {
                    layer_of.push(k);
                    succ.push(Vec::new());
                    pred.push(Vec::new());
                    chain.push(layer_of.len() - 1);
                }
                chain.push(b);
                for pair in chain.windows(2) {
                    succ[pair[0]].push(pair[1]);
                    pred[pair[1]].push(pair[0]);
                }
            } else {
                chain.push(b); // cannot happen (layers grow along kept edges); drawn as is
            }
            chains.push(chain);
        }
        let depth = layer_of.iter().max().map_or(0, |m| m + 1);
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
        for id in first_seen_order(n, &succ) {
            layers[layer_of[id]].push(id);
        }
        Proper {
            layers,
            layer_of,
            succ,
            pred,
            chains,
        }
    }
}

/// All ids in depth-first preorder from the graph's nodes in index order (entry points first),
/// the starting order of the barycenter sweeps: it keeps subtrees together.
fn first_seen_order(roots: usize, succ: &[Vec<usize>]) -> Vec<usize> {
    let mut seen = vec![false; succ.len()];
    let mut order = Vec::with_capacity(succ.len());
    for root in (0..roots).chain(roots..succ.len()) {
        if seen[root] {
            continue;
        }
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            if seen[v] {
                continue;
            }
            seen[v] = true;
            order.push(v);
            stack.extend(succ[v].iter().rev().filter(|&&w| !seen[w]));
        }
    }
    order
}

// ---- 4. order ------------------------------------------------------------------------------

/// Reorders every layer by barycenter sweeps and returns the crossings of the best order
/// found (see the module docs, step 4).
fn order(layers: &mut [Vec<usize>], succ: &[Vec<usize>], pred: &[Vec<usize>]) -> usize {
    let mut pos = vec![0usize; succ.len()];
    let refresh = |layer: &[usize], pos: &mut [usize]| {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    };
    for layer in layers.iter() {
        refresh(layer, &mut pos);
    }
    let mut best = layers.to_vec();
    let mut best_crossings = crossings(layers, succ, &pos);
    let depth = layers.len();
    for _ in 0..SWEEPS {
        if best_crossings == 0 {
            break;
        }
        for down in [true, false] {
            let indices: Vec<usize> = if down {
                (1..depth).collect()
            } else {
                (0..depth.saturating_sub(1)).rev().collect()
            };
            for i in indices {
                let nbrs = if down { pred } else { succ };
                let mut keyed: Vec<(f64, usize)> = layers[i]
                    .iter()
                    .map(|&v| (barycenter(&nbrs[v], &pos).unwrap_or(pos[v] as f64), v))
                    .collect();
                // Stable: ties keep their current order.
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                layers[i] = keyed.into_iter().map(|(_, v)| v).collect();
                refresh(&layers[i], &mut pos);
            }
            let c = crossings(layers, succ, &pos);
            if c < best_crossings {
                best_crossings = c;
                best = layers.to_vec();
            }
        }
    }
    layers.clone_from_slice(&best);
    best_crossings
}

/// The mean position of `nbrs`, or `None` without neighbours.
fn barycenter(nbrs: &[usize], pos: &[usize]) -> Option<f64> {
    (!nbrs.is_empty()).then(|| nbrs.iter().map(|&u| pos[u] as f64).sum::<f64>() / nbrs.len() as f64)
}

/// Edge crossings between adjacent layers, given each id's position in its layer: the
/// inversions among the spans of each gap sorted by their left end, counted with a Fenwick
/// tree.
fn crossings(layers: &[Vec<usize>], succ: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for pair in layers.windows(2) {
        let mut spans: Vec<(usize, usize)> = pair[0]
            .iter()
            .flat_map(|&u| succ[u].iter().map(move |&w| (pos[u], pos[w])))
            .collect();
        spans.sort_unstable();
        let size = pair[1].len() + 1;
        let mut tree = vec![0usize; size + 1];
        for (seen, &(_, right)) in spans.iter().enumerate() {
            // Spans seen so far whose right end is at or before this one's.
            let mut at_or_before = 0;
            let mut i = right + 1;
            while i > 0 {
                at_or_before += tree[i];
                i -= i & i.wrapping_neg();
            }
            total += seen - at_or_before;
            let mut i = right + 1;
            while i <= size {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

// ---- 5. coordinates ------------------------------------------------------------------------

/// Positions minimising the squared distance to `desired` while keeping `seps[i]` between
/// items `i` and `i + 1`: with offsets o (cumulated separations), z = y − o must not
/// decrease, an isotonic regression of `desired − o`, solved by pool-adjacent-violators.
fn pava(desired: &[f64], seps: &[f64]) -> Vec<f64> {
    let n = desired.len();
    let mut offset = vec![0.0; n];
    for i in 1..n {
        offset[i] = offset[i - 1] + seps[i - 1];
    }
    // Blocks of (sum, count), their means non-decreasing.
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        blocks.push((desired[i] - offset[i], 1));
        while blocks.len() >= 2 {
            let (s1, c1) = blocks[blocks.len() - 1];
            let (s0, c0) = blocks[blocks.len() - 2];
            if s0 / c0 as f64 > s1 / c1 as f64 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s0 + s1, c0 + c1);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    for (sum, count) in blocks {
        let mean = sum / count as f64;
        for _ in 0..count {
            out.push(mean + offset[out.len()]);
        }
    }
    out
}

/// Which neighbours a node of a layer is pulled towards.
#[derive(Clone, Copy, Debug)]
enum Look {
    /// Those in the layer before.
    Left,
    /// Those in the layer after.
    Right,
    /// Both.
    Both,
}

/// Moves the nodes of `layer` as near as their separations `seps` allow to the mean height of
/// their neighbours (a node without any stays where it is).
fn settle(p: &Proper, layer: &[usize], seps: &[f64], look: Look, y: &mut [f64]) {
    let desired: Vec<f64> = layer
        .iter()
        .map(|&v| {
            let (left, right): (&[usize], &[usize]) = match look {
                Look::Left => (&p.pred[v], &[]),
                Look::Right => (&[], &p.succ[v]),
                Look::Both => (&p.pred[v], &p.succ[v]),
            };
            let count = left.len() + right.len();
            if count == 0 {
                y[v]
            } else {
                left.iter().chain(right).map(|&u| y[u]).sum::<f64>() / count as f64
            }
        })
        .collect();
    for (&v, pos) in layer.iter().zip(pava(&desired, seps)) {
        y[v] = pos;
    }
}

/// Vertical centres of every id (see the module docs, step 5).
fn place_vertically(p: &Proper, height: &[f64], virtual_from: usize) -> Vec<f64> {
    let sep = |a: usize, b: usize| {
        let gap = if a < virtual_from && b < virtual_from {
            NODE_GAP
        } else {
            VIRTUAL_GAP
        };
        (height[a] + height[b]) / 2.0 + gap
    };
    let seps: Vec<Vec<f64>> = p
        .layers
        .iter()
        .map(|layer| layer.windows(2).map(|w| sep(w[0], w[1])).collect())
        .collect();
    let mut y = vec![0.0; p.layer_of.len()];
    for (layer, seps) in p.layers.iter().zip(&seps) {
        let total: f64 = seps.iter().sum();
        for (i, pos) in pava(&vec![-total / 2.0; layer.len()], seps)
            .into_iter()
            .enumerate()
        {
            y[layer[i]] = pos;
        }
    }
    for _ in 0..PLACEMENT_ROUNDS {
        for (layer, seps) in p.layers.iter().zip(&seps).skip(1) {
            settle(p, layer, seps, Look::Left, &mut y);
        }
        for (layer, seps) in p.layers.iter().zip(&seps).rev().skip(1) {
            settle(p, layer, seps, Look::Right, &mut y);
        }
    }
    for (layer, seps) in p.layers.iter().zip(&seps) {
        settle(p, layer, seps, Look::Both, &mut y);
    }
    y
}

/// The layout of the diagram of `report`: every node's box and label, every edge's route, the
/// canvas size (see the module docs). Pure, deterministic, and total: any report gives a
/// layout (an empty one for an empty report).
pub fn layout(report: &Report) -> Layout {
    let g = Graph::of(report);
    let layering = layering(&g);
    let mut proper = Proper::new(&g, &layering);
    let crossings = order(&mut proper.layers, &proper.succ, &proper.pred);
    place(&g, &layering, &proper, crossings, &report.topology)
}

/// Node sizes per kind: every node of a kind has the same width, wide enough for the longest
/// name within limits (longer ones are cut).
fn node_widths(g: &Graph) -> BTreeMap<NodeKind, f64> {
    let even = |w: f64| (w / 2.0).ceil() * 2.0;
    let widest = |kind: NodeKind, size: f64, with_detail: bool| {
        g.nodes
            .iter()
            .filter(|v| v.kind == kind)
            .map(|v| {
                let name = text_width(&v.name, size);
                if with_detail {
                    name.max(text_width(&service_detail(v), DETAIL_SIZE))
                } else {
                    name.max(text_width(&v.detail, DETAIL_SIZE))
                }
            })
            .fold(0.0, f64::max)
    };
    BTreeMap::from([
        (
            NodeKind::Entry,
            even(
                (widest(NodeKind::Entry, ENTRY_SIZE, false) + 2.0 * (ENTRY_H / 2.0))
                    .clamp(90.0, 180.0),
            ),
        ),
        (
            NodeKind::Service,
            even((widest(NodeKind::Service, NAME_SIZE, true) + 2.0 * PAD).clamp(160.0, 260.0)),
        ),
        (
            NodeKind::Topic,
            even(
                (widest(NodeKind::Topic, TOPIC_NAME_SIZE, false) + 2.0 * (SKEW + PAD))
                    .clamp(130.0, 240.0),
            ),
        ),
        (
            NodeKind::Queue,
            even(
                (widest(NodeKind::Queue, TOPIC_NAME_SIZE, false) + 2.0 * QUEUE_INSET)
                    .clamp(130.0, 240.0),
            ),
        ),
    ])
}

/// The second line of a service's box: `replicas × workers · ρ utilization`, and the peak
/// utilization when it was notably higher.
fn service_detail(v: &GNode) -> String {
    match (v.utilization, v.peak_utilization) {
        (Some(u), Some(p)) if p >= u + 0.1 => format!("{} · ρ {u:.2} (peak {p:.2})", v.detail),
        (Some(u), _) => format!("{} · ρ {u:.2}", v.detail),
        (None, _) => format!("{} · ρ –", v.detail),
    }
}

/// The mark of an edge: `×n` for merged sync call steps, then what went wrong on it.
fn edge_text(e: &GEdge) -> Option<String> {
    let count = (e.kind == EdgeKind::Sync && e.count > 1).then(|| format!("×{}", e.count));
    match (count, &e.note) {
        (Some(c), Some(n)) => Some(format!("{c} · {n}")),
        (Some(c), None) => Some(c),
        (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    }
}

/// The peak utilization of service `s`: the highest mean of busy workers over all workers
/// in a slice of the run's timeline (the slices of [`crate::metrics::slices`]), so that a
/// few minutes of saturation are not averaged away over the run; `None` without a series.
fn peak_utilization(report: &Report, s: &crate::report::ServiceReport) -> Option<f64> {
    let series = report.series.services.iter().find(|x| x.name == s.name)?;
    let workers = f64::from(s.replicas) * f64::from(s.workers);
    if series.busy.is_empty() || workers <= 0.0 {
        return None;
    }
    let bucket_s = if report.series.bucket_s > 0.0 {
        report.series.bucket_s
    } else {
        1.0
    };
    let bucket_ns = (bucket_s * 1e9).round() as u64;
    let end_ns =
        ((report.duration_s * 1e9).round() as u64).min(series.busy.len() as u64 * bucket_ns);
    let peak = crate::metrics::slices::slice_buckets(series.busy.len(), bucket_ns, end_ns)
        .into_iter()
        .map(|r| {
            let v = &series.busy[r];
            v.iter().sum::<f64>() / v.len().max(1) as f64 / workers
        })
        .fold(f64::NAN, f64::max);
    peak.is_finite().then_some(peak)
}

/// Whether fault `label` (e.g. `slowdown reviews ×50`, `crash payment (1 of 2)`,
/// `latency a → b +100ms`) names service `name`: one of its words, punctuation aside.
fn names(label: &str, name: &str) -> bool {
    label
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | '→' | '[' | ']'))
        .any(|w| w == name)
}

/// The line above a service's box naming the faults that hit it: the first one, and how
/// many more; cut to the box's width.
fn fault_mark(faults: &[String], rect: &Rect) -> Option<Label> {
    let first = faults.first()?;
    let text = match faults.len() {
        1 => format!("fault: {first}"),
        n => format!("fault: {first} (+{} more)", n - 1),
    };
    let text = fit(&text, SMALL_SIZE, rect.w);
    Some(Label {
        x: rect.x + rect.w / 2.0,
        y: rect.y - 5.0,
        text,
        size: SMALL_SIZE,
        bold: false,
    })
}

/// How healthy a service looked (see [`Node::health`]).
pub fn health(availability: Option<f64>, peak_utilization: Option<f64>) -> Option<f64> {
    let a = availability
        .map(|a| ((a - AVAILABILITY_FLOOR) / (1.0 - AVAILABILITY_FLOOR)).clamp(0.0, 1.0));
    let u = peak_utilization.map(|u| {
        ((UTILIZATION_CEILING - u) / (UTILIZATION_CEILING - UTILIZATION_CALM)).clamp(0.0, 1.0)
    });
    match (a, u) {
        (Some(a), Some(u)) => Some(a.min(u)),
        (a, u) => a.or(u),
    }
}

/// `v` with at most two decimals, trailing zeros dropped, for marks on edges.
fn num2(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Availability as a percentage cut (not rounded) to two decimals, so that 0.99999 does not
/// read as 100 %.
fn percent(a: f64) -> String {
    if a >= 1.0 {
        "100 %".to_string()
    } else {
        format!("{:.2} %", (a.max(0.0) * 10_000.0).floor() / 100.0)
    }
}

/// The height of a node of `kind`.
fn node_height(kind: NodeKind) -> f64 {
    match kind {
        NodeKind::Entry => ENTRY_H,
        NodeKind::Service => SERVICE_H,
        NodeKind::Topic | NodeKind::Queue => TOPIC_H,
    }
}

/// Coordinates, labels and routes (see the module docs, step 5).
fn place(g: &Graph, l: &Layering, p: &Proper, crossings: usize, topology: &str) -> Layout {
    let n = g.nodes.len();
    let ids = p.layer_of.len();
    let widths = node_widths(g);
    let size = |id: usize| -> (f64, f64) {
        if id < n {
            let kind = g.nodes[id].kind;
            (widths[&kind], node_height(kind))
        } else {
            (0.0, VIRTUAL_H)
        }
    };

    // Columns.
    let depth = p.layers.len();
    let col_w: Vec<f64> = p
        .layers
        .iter()
        .map(|layer| {
            layer
                .iter()
                .filter(|&&id| id < n)
                .map(|&id| size(id).0)
                .fold(24.0, f64::max)
        })
        .collect();
    // The gap after each column: wider with the edges crossing it, and wide enough for the
    // marks of the edges that leave it (up to 240 px; longer marks are cut).
    let mark_w: Vec<f64> = (0..depth)
        .map(|i| {
            g.edges
                .iter()
                .filter(|e| e.from < n && p.layer_of[e.from] == i)
                .filter_map(edge_text)
                .map(|t| text_width(&t, SMALL_SIZE) + 16.0)
                .fold(0.0, f64::max)
                .min(240.0)
        })
        .collect();
    let mut col_x = Vec::with_capacity(depth);
    let mut gap_w = Vec::with_capacity(depth);
    let mut x = MARGIN;
    for (i, w) in col_w.iter().enumerate() {
        col_x.push(x);
        let spans: usize = p.layers[i].iter().map(|&v| p.succ[v].len()).sum();
        let gap = (70.0 + 3.0 * spans as f64).min(200.0).max(mark_w[i]);
        gap_w.push(gap);
        x += w + gap;
    }
    let content_right = col_x
        .last()
        .zip(col_w.last())
        .map_or(MARGIN, |(x, w)| x + w);

    // Rows.
    let heights: Vec<f64> = (0..ids).map(|id| size(id).1).collect();
    let centre = place_vertically(p, &heights, n);
    let top = (0..ids)
        .map(|id| centre[id] - heights[id] / 2.0)
        .fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() {
        HEADER - top
    } else {
        HEADER
    };
    let cy: Vec<f64> = centre.iter().map(|c| (c + shift).round()).collect();
    let content_bottom = (0..ids)
        .map(|id| cy[id] + heights[id] / 2.0)
        .fold(HEADER, f64::max);

    // Nodes.
    let nodes: Vec<Node> = (0..n)
        .map(|id| {
            let v = &g.nodes[id];
            let layer = l.layer[id];
            let (w, h) = size(id);
            let rect = Rect {
                x: col_x[layer] + (col_w[layer] - w) / 2.0,
                y: cy[id] - h / 2.0,
                w,
                h,
            };
            Node {
                kind: v.kind,
                name: v.name.clone(),
                layer,
                rect,
                labels: labels(v, &rect),
                availability: v.availability,
                utilization: v.utilization,
                peak_utilization: v.peak_utilization,
                health: health(v.availability, v.peak_utilization),
                fault_mark: fault_mark(&v.faults, &rect),
            }
        })
        .collect();

    // Ports: where the edges meet each node's sides, spread in the order of the other ends.
    let mut right_ports: Vec<Vec<(f64, usize, usize)>> = vec![Vec::new(); n];
    let mut left_ports: Vec<Vec<(f64, usize, usize)>> = vec![Vec::new(); n];
    for (e, chain) in p.chains.iter().enumerate() {
        let (a, b) = (chain[0], chain[chain.len() - 1]);
        let (next, prev) = (chain[1], chain[chain.len() - 2]);
        right_ports[a].push((cy[next], next, e));
        left_ports[b].push((cy[prev], prev, e));
    }
    let mut port_y: BTreeMap<(usize, bool), f64> = BTreeMap::new(); // (edge, at its start)
    for (v, (right, left)) in right_ports.iter_mut().zip(&mut left_ports).enumerate() {
        let h = heights[v];
        for (ports, at_start) in [(right, true), (left, false)] {
            ports.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let k = ports.len();
            let step = if k > 1 {
                (0.7 * h / (k - 1) as f64).min(10.0)
            } else {
                0.0
            };
            for (i, &(_, _, e)) in ports.iter().enumerate() {
                let y = cy[v] + (i as f64 - (k - 1) as f64 / 2.0) * step;
                port_y.insert((e, at_start), (y * 10.0).round() / 10.0);
            }
        }
    }

    // Edges.
    let mut edges = Vec::with_capacity(g.edges.len());
    for (e, chain) in p.chains.iter().enumerate() {
        let (a, b) = (chain[0], chain[chain.len() - 1]);
        let (ra, rb) = (nodes[a].rect, nodes[b].rect);
        let (la, lb) = (p.layer_of[a], p.layer_of[b]);
        let ya = port_y[&(e, true)];
        let yb = port_y[&(e, false)];
        let mut points: Vec<[f64; 2]> = vec![[ra.right(), ya], [col_x[la] + col_w[la], ya]];
        for &v in &chain[1..chain.len() - 1] {
            let k = p.layer_of[v];
            points.push([col_x[k], cy[v]]);
            points.push([col_x[k] + col_w[k], cy[v]]);
        }
        points.push([col_x[lb], yb]);
        points.push([rb.x, yb]);
        points.dedup();
        let ge = &g.edges[e];
        if l.reversed[e] {
            points.reverse();
        }
        let label = edge_text(ge).map(|text| {
            // Along the edge where it leaves its column, cut to the gap.
            let room = gap_w[la] - 8.0;
            let text = fit(&text, SMALL_SIZE, room);
            let w = text_width(&text, SMALL_SIZE);
            Label {
                x: col_x[la] + col_w[la] + 4.0 + w / 2.0,
                y: ya - 4.0,
                text,
                size: SMALL_SIZE,
                bold: false,
            }
        });
        edges.push(Edge {
            kind: ge.kind,
            from: ge.from,
            to: ge.to,
            count: ge.count,
            reversed: l.reversed[e],
            points,
            label,
            bad: ge.bad,
        });
    }

    // Canvas, title, legend.
    let legend = Rect {
        x: MARGIN,
        y: content_bottom + LEGEND_GAP,
        w: legend_width(has_queues(&nodes)),
        h: LEGEND_H,
    };
    let width = (content_right + MARGIN).max(legend.right() + MARGIN).ceil();
    let height = (legend.bottom() + MARGIN / 2.0).ceil();
    let title_text = fit(
        &format!("Topology · {}", clean(topology)),
        TITLE_SIZE,
        width - 2.0 * MARGIN,
    );
    let title = Label {
        x: MARGIN + text_width(&title_text, TITLE_SIZE) / 2.0,
        y: 28.0,
        text: title_text,
        size: TITLE_SIZE,
        bold: true,
    };
    Layout {
        title,
        width,
        height,
        layers: depth,
        crossings,
        nodes,
        edges,
        legend,
    }
}

/// The lines of text of node `v` drawn in `rect`, each cut to the room its shape leaves.
fn labels(v: &GNode, rect: &Rect) -> Vec<Label> {
    let cx = rect.x + rect.w / 2.0;
    let line = |text: &str, dy: f64, size: f64, bold: bool, inset: f64| Label {
        text: fit(text, size, rect.w - 2.0 * inset),
        x: cx,
        y: rect.y + dy,
        size,
        bold,
    };
    match v.kind {
        NodeKind::Entry => vec![line(&v.name, 18.0, ENTRY_SIZE, false, ENTRY_H / 2.0)],
        NodeKind::Topic => vec![
            line(&v.name, 19.0, TOPIC_NAME_SIZE, true, SKEW + PAD),
            line(&v.detail, 34.0, DETAIL_SIZE, false, SKEW + PAD),
        ],
        NodeKind::Queue => vec![
            line(&v.name, 19.0, TOPIC_NAME_SIZE, true, QUEUE_INSET),
            line(&v.detail, 34.0, DETAIL_SIZE, false, QUEUE_INSET),
        ],
        NodeKind::Service => {
            let availability = match v.availability {
                Some(a) => format!("avail {}", percent(a)),
                None => "no requests".to_string(),
            };
            vec![
                line(&v.name, 18.0, NAME_SIZE, true, PAD),
                line(&service_detail(v), 33.0, DETAIL_SIZE, false, PAD),
                line(&availability, 47.0, DETAIL_SIZE, false, PAD),
            ]
        }
    }
}

// ---- drawing -------------------------------------------------------------------------------

/// `v` as SVG wants it: at most one decimal, no `-0`, non-finite as 0.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// A colour mixed with white: `t` = 0 is the colour, 1 is white (the fill of boxes, light
/// enough for dark text).
fn tint(c: RGBColor, t: f64) -> RGBColor {
    let mix = |x: u8| (f64::from(x) + (255.0 - f64::from(x)) * t).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// The colour of an availability: [`palette::scale`] over \[[`AVAILABILITY_FLOOR`], 1\].
pub fn availability_colour(a: f64) -> RGBColor {
    palette::scale((a - AVAILABILITY_FLOOR) / (1.0 - AVAILABILITY_FLOOR), false)
}

/// The colour of a service of health `h` (see [`Node::health`]): [`palette::scale`], green
/// at 1, yellow at ½, vermillion at 0.
pub fn health_colour(h: f64) -> RGBColor {
    palette::scale(h, false)
}

/// Writes `label` as an SVG `<text>` element.
fn text(out: &mut String, label: &Label, fill: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="{}"{} text-anchor="middle" fill="{fill}">{}</text>"#,
        num(label.x),
        num(label.y),
        num(label.size),
        if label.bold {
            r#" font-weight="bold""#
        } else {
            ""
        },
        esc(&label.text)
    );
}

/// Writes left-aligned text at (x, baseline y).
fn text_at(out: &mut String, x: f64, y: f64, size: f64, fill: &str, s: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="{}" fill="{fill}">{}</text>"#,
        num(x),
        num(y),
        num(size),
        esc(s)
    );
}

/// The SVG path data of a route (see [`Edge::points`]), its last point pulled back by `back`
/// along the final direction (to leave room for an arrowhead).
fn path_data(points: &[[f64; 2]], back: f64) -> String {
    let mut d = String::new();
    let Some(first) = points.first() else {
        return d;
    };
    let _ = write!(d, "M{} {}", num(first[0]), num(first[1]));
    for (i, pair) in points.windows(2).enumerate() {
        let [x0, y0] = pair[0];
        let [mut x1, y1] = pair[1];
        if i + 2 == points.len() {
            x1 -= back * (x1 - x0).signum();
        }
        if y0 == y1 {
            let _ = write!(d, " L{} {}", num(x1), num(y1));
        } else {
            let mx = (x0 + x1) / 2.0;
            let _ = write!(
                d,
                " C{} {} {} {} {} {}",
                num(mx),
                num(y0),
                num(mx),
                num(y1),
                num(x1),
                num(y1)
            );
        }
    }
    d
}

/// An arrowhead with its tip at `tip`, pointing right (`dir` > 0) or left.
fn arrowhead(out: &mut String, tip: [f64; 2], dir: f64, colour: &str) {
    let base = tip[0] - dir * ARROW;
    let _ = writeln!(
        out,
        r#"<path d="M{} {} L{} {} L{} {} Z" fill="{colour}"/>"#,
        num(tip[0]),
        num(tip[1]),
        num(base),
        num(tip[1] - ARROW / 2.0),
        num(base),
        num(tip[1] + ARROW / 2.0)
    );
}

/// The stroke of an edge kind: colour, width, dash pattern.
fn edge_style(kind: EdgeKind) -> (String, f64, Option<&'static str>) {
    match kind {
        EdgeKind::Entry => (ENTRY_COLOUR.to_string(), 1.2, None),
        EdgeKind::Sync => (SYNC_COLOUR.to_string(), 1.4, None),
        EdgeKind::Publish | EdgeKind::Subscribe => (palette::hex(palette::BLUE), 1.4, Some("6 4")),
    }
}

/// Writes a line sample with an arrowhead from `x` to `x + len` at height `y`, for the legend.
fn legend_line(out: &mut String, x: f64, y: f64, len: f64, kind: EdgeKind) {
    let (colour, width, dash) = edge_style(kind);
    let _ = writeln!(
        out,
        r#"<path d="M{} {} L{} {}" fill="none" stroke="{colour}" stroke-width="{}"{}/>"#,
        num(x),
        num(y),
        num(x + len - ARROW),
        num(y),
        num(width),
        dash.map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default()
    );
    arrowhead(out, [x + len, y], 1.0, &colour);
}

/// The texts of the legend's first row, left to right (their widths size the legend).
const LEGEND_ROW1: [&str; 3] = [
    "worse of availability, peak ρ",
    "no requests",
    "ρ: busy / all workers",
];
/// The texts of the legend's second row, left to right, for a diagram without work queues.
const LEGEND_ROW2: [&str; 4] = [
    "sync call (×n: n call steps)",
    "publish / subscribe",
    "entry point",
    "topic",
];
/// The texts of the legend's second row for a diagram with work queues.
const LEGEND_ROW2_QUEUES: [&str; 5] = [
    "sync call (×n: n call steps)",
    "publish / subscribe, send / consume",
    "entry point",
    "topic",
    "work queue",
];

/// Whether the diagram has work queues (and so their key in the legend).
fn has_queues(nodes: &[Node]) -> bool {
    nodes.iter().any(|v| v.kind == NodeKind::Queue)
}

/// The texts of the legend's second row, with or without the work queues' key.
fn legend_row2(queues: bool) -> &'static [&'static str] {
    if queues {
        &LEGEND_ROW2_QUEUES
    } else {
        &LEGEND_ROW2
    }
}

/// The width of the sample drawn before the text of item `i` of the legend's second row:
/// lines and the entry pill 40 px, the shapes 30 px.
fn legend_sample_width(i: usize) -> f64 {
    if i >= 3 {
        30.0
    } else {
        40.0
    }
}

/// The width of the legend \[px\] (with the work queues' key or not).
fn legend_width(queues: bool) -> f64 {
    let t = |s: &str| text_width(s, DETAIL_SIZE);
    let row1 = t(LEGEND_ROW1[0])
        + 8.0
        + 150.0
        + 24.0
        + 14.0
        + 6.0
        + t(LEGEND_ROW1[1])
        + 24.0
        + 40.0
        + 6.0
        + t(LEGEND_ROW1[2]);
    let row2_items = legend_row2(queues);
    let row2 = row2_items
        .iter()
        .enumerate()
        .map(|(i, s)| legend_sample_width(i) + 6.0 + t(s))
        .sum::<f64>()
        + (row2_items.len() - 1) as f64 * 24.0;
    row1.max(row2).ceil()
}

/// Writes the legend in `r`: the availability colour key, utilization, line and shape keys
/// (the work queue's only if `queues`).
fn legend(out: &mut String, r: &Rect, queues: bool) {
    let t = |s: &str| text_width(s, DETAIL_SIZE);
    let _ = writeln!(out, r#"<g class="legend">"#);
    // Row 1: availability key, no data, utilization bar.
    let y = r.y + 14.0;
    let mut x = r.x;
    text_at(out, x, y, DETAIL_SIZE, INK, LEGEND_ROW1[0]);
    x += t(LEGEND_ROW1[0]) + 8.0;
    let steps = 30;
    for i in 0..steps {
        let a = AVAILABILITY_FLOOR + (1.0 - AVAILABILITY_FLOOR) * (i as f64 + 0.5) / steps as f64;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="5" height="12" fill="{}"/>"#,
            num(x + 5.0 * i as f64),
            num(y - 10.0),
            palette::hex(availability_colour(a))
        );
    }
    let pct = |a: f64| format!("{} %", num(100.0 * a));
    let rho = |u: f64| format!("{u:.2}");
    let ticks = [
        (
            0.0,
            format!(
                "≤ {}, ≥ {}",
                pct(AVAILABILITY_FLOOR),
                rho(UTILIZATION_CEILING)
            ),
            "start",
        ),
        (
            150.0,
            format!("{}, ≤ {}", pct(1.0), rho(UTILIZATION_CALM)),
            "end",
        ),
    ];
    for (dx, label, anchor) in ticks {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}" fill="{MUTED}">{}</text>"#,
            num(x + dx),
            num(y + 14.0),
            num(SMALL_SIZE),
            esc(&label)
        );
    }
    x += 150.0 + 24.0;
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="14" height="12" fill="#eeeeee" stroke="{}"/>"##,
        num(x),
        num(y - 10.0),
        palette::hex(palette::GREY)
    );
    x += 14.0 + 6.0;
    text_at(out, x, y, DETAIL_SIZE, INK, LEGEND_ROW1[1]);
    x += t(LEGEND_ROW1[1]) + 24.0;
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="40" height="4" fill="#dddddd"/><rect x="{}" y="{}" width="24" height="4" fill="{MUTED}"/>"##,
        num(x),
        num(y - 5.0),
        num(x),
        num(y - 5.0)
    );
    x += 40.0 + 6.0;
    text_at(out, x, y, DETAIL_SIZE, INK, LEGEND_ROW1[2]);

    // Row 2: edges and shapes.
    let y = r.y + 48.0;
    let mut x = r.x;
    for (i, label) in legend_row2(queues).iter().enumerate() {
        match i {
            0 => legend_line(out, x, y - 4.0, 40.0, EdgeKind::Sync),
            1 => legend_line(out, x, y - 4.0, 40.0, EdgeKind::Publish),
            2 => {
                let _ = writeln!(
                    out,
                    r##"<rect x="{}" y="{}" width="40" height="14" rx="7" fill="#f0f0f0" stroke="{ENTRY_COLOUR}"/>"##,
                    num(x),
                    num(y - 11.0)
                );
            }
            3 => topic_shape(
                out,
                &Rect {
                    x,
                    y: y - 12.0,
                    w: 30.0,
                    h: 16.0,
                },
                5.0,
            ),
            _ => queue_shape(
                out,
                &Rect {
                    x,
                    y: y - 12.0,
                    w: 30.0,
                    h: 16.0,
                },
                4.0,
            ),
        }
        x += legend_sample_width(i) + 6.0;
        text_at(out, x, y, DETAIL_SIZE, INK, label);
        x += t(label) + 24.0;
    }
    let _ = writeln!(out, "</g>");
}

/// Writes a topic's parallelogram in `r`, its sides slanted by `skew`.
fn topic_shape(out: &mut String, r: &Rect, skew: f64) {
    let _ = writeln!(
        out,
        r#"<path d="M{} {} L{} {} L{} {} L{} {} Z" fill="{}" stroke="{}" stroke-width="1.5"/>"#,
        num(r.x + skew),
        num(r.y),
        num(r.right()),
        num(r.y),
        num(r.right() - skew),
        num(r.bottom()),
        num(r.x),
        num(r.bottom()),
        palette::hex(tint(palette::SKY_BLUE, 0.8)),
        palette::hex(palette::BLUE)
    );
}

/// Writes a queue's horizontal cylinder in `r`, its elliptic ends `cap` wide (horizontal
/// radius): the body, then the open end on the right.
fn queue_shape(out: &mut String, r: &Rect, cap: f64) {
    let ry = r.h / 2.0;
    let _ = writeln!(
        out,
        r#"<path d="M{x0} {top} L{x1} {top} A{rx} {ry} 0 0 1 {x1} {bottom} L{x0} {bottom} A{rx} {ry} 0 0 1 {x0} {top} Z" fill="{}" stroke="{}" stroke-width="1.5"/>"#,
        palette::hex(tint(palette::SKY_BLUE, 0.8)),
        palette::hex(palette::BLUE),
        x0 = num(r.x + cap),
        x1 = num(r.right() - cap),
        top = num(r.y),
        bottom = num(r.bottom()),
        rx = num(cap),
        ry = num(ry),
    );
    let _ = writeln!(
        out,
        r#"<path d="M{x1} {top} A{rx} {ry} 0 0 0 {x1} {bottom}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
        palette::hex(palette::BLUE),
        x1 = num(r.right() - cap),
        top = num(r.y),
        bottom = num(r.bottom()),
        rx = num(cap),
        ry = num(ry),
    );
}

/// The SVG document of a layout.
fn svg(l: &Layout) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, 'Liberation Sans', sans-serif">"#,
        w = num(l.width),
        h = num(l.height)
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        num(l.width),
        num(l.height)
    );
    // Left-aligned: the real text is narrower than its estimate.
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" font-size="{}" font-weight="bold" fill="{INK}">{}</text>"#,
        num(l.title.x - l.title.width() / 2.0),
        num(l.title.y),
        num(l.title.size),
        esc(&l.title.text)
    );
    text_at(
        &mut out,
        MARGIN,
        l.title.y + 18.0,
        DETAIL_SIZE,
        MUTED,
        "left to right by call depth · colour: the worse of availability and peak utilization \
         · ρ: utilization",
    );

    // Edges first, behind the nodes.
    let _ = writeln!(out, r#"<g class="edges" fill="none">"#);
    for e in &l.edges {
        let (mut colour, width, dash) = edge_style(e.kind);
        if e.bad {
            colour = palette::hex(BAD_COLOUR);
        }
        let _ = writeln!(
            out,
            r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="{}"{}/>"#,
            path_data(&e.points, ARROW),
            num(width),
            dash.map(|d| format!(r#" stroke-dasharray="{d}""#))
                .unwrap_or_default()
        );
        if let [.., prev, tip] = e.points[..] {
            let dir = if tip[0] < prev[0] { -1.0 } else { 1.0 };
            arrowhead(&mut out, tip, dir, &colour);
        }
        if let Some(label) = &e.label {
            text(&mut out, label, &colour);
        }
    }
    let _ = writeln!(out, "</g>");

    let _ = writeln!(out, r#"<g class="nodes">"#);
    for v in &l.nodes {
        let r = &v.rect;
        let _ = writeln!(out, "<g>");
        match v.kind {
            NodeKind::Entry => {
                let _ = writeln!(out, "<title>entry point {}</title>", esc(&v.name));
                let _ = writeln!(
                    out,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="#f0f0f0" stroke="{ENTRY_COLOUR}" stroke-width="1.2"/>"##,
                    num(r.x),
                    num(r.y),
                    num(r.w),
                    num(r.h),
                    num(r.h / 2.0)
                );
            }
            NodeKind::Topic => {
                let _ = writeln!(out, "<title>topic {}</title>", esc(&v.name));
                topic_shape(&mut out, r, SKEW);
            }
            NodeKind::Queue => {
                let _ = writeln!(out, "<title>work queue {}</title>", esc(&v.name));
                queue_shape(&mut out, r, QUEUE_CAP);
            }
            NodeKind::Service => {
                let (fill, stroke) = match v.health {
                    Some(h) => {
                        let c = health_colour(h);
                        (palette::hex(tint(c, 0.72)), palette::hex(c))
                    }
                    None => ("#eeeeee".to_string(), palette::hex(palette::GREY)),
                };
                let _ = writeln!(
                    out,
                    "<title>service {}{}{}{}</title>",
                    esc(&v.name),
                    v.availability
                        .map(|a| format!(", availability {a:.5}"))
                        .unwrap_or_default(),
                    v.utilization
                        .map(|u| format!(", utilization {u:.3}"))
                        .unwrap_or_default(),
                    v.peak_utilization
                        .map(|u| format!(", peak utilization {u:.3}"))
                        .unwrap_or_default()
                );
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="2"/>"#,
                    num(r.x),
                    num(r.y),
                    num(r.w),
                    num(r.h)
                );
                if let Some(mark) = &v.fault_mark {
                    let bad = palette::hex(BAD_COLOUR);
                    let _ = writeln!(
                        out,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="none" stroke="{bad}" stroke-width="1.5" stroke-dasharray="5 3"/>"#,
                        num(r.x - 3.0),
                        num(r.y - 3.0),
                        num(r.w + 6.0),
                        num(r.h + 6.0)
                    );
                    text(&mut out, mark, &bad);
                }
                let bar_w = r.w - 2.0 * PAD;
                let used = v.utilization.unwrap_or(0.0).clamp(0.0, 1.0) * bar_w;
                let _ = writeln!(
                    out,
                    r##"<rect x="{x}" y="{y}" width="{}" height="4" fill="#ffffff" fill-opacity="0.8"/><rect x="{x}" y="{y}" width="{}" height="4" fill="{MUTED}"/>"##,
                    num(bar_w),
                    num(used),
                    x = num(r.x + PAD),
                    y = num(r.bottom() - 9.0),
                );
            }
        }
        for label in &v.labels {
            text(&mut out, label, INK);
        }
        let _ = writeln!(out, "</g>");
    }
    let _ = writeln!(out, "</g>");
    legend(&mut out, &l.legend, has_queues(&l.nodes));
    let _ = writeln!(out, "</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph from nodes `(kind, name)` and edges `(kind, from, to)`.
    fn graph(nodes: &[(NodeKind, &str)], edges: &[(EdgeKind, usize, usize)]) -> Graph {
        Graph {
            nodes: nodes
                .iter()
                .map(|&(kind, name)| GNode::plain(kind, name))
                .collect(),
            edges: edges
                .iter()
                .map(|&(kind, from, to)| GEdge {
                    kind,
                    from,
                    to,
                    count: 1,
                    note: None,
                    bad: false,
                })
                .collect(),
        }
    }

    use EdgeKind::{Entry as E, Publish as P, Subscribe as S, Sync as C};
    use NodeKind::{Entry, Service, Topic};

    #[test]
    fn a_cycle_through_topics_is_broken_at_the_edge_farthest_from_the_entries() {
        // A saga: orders publishes order-placed, payments consumes it and publishes
        // payment-done, which orders consumes; payments also calls bank.
        let g = graph(
            &[
                (Entry, "checkout"),
                (Service, "orders"),
                (Service, "payments"),
                (Service, "bank"),
                (Topic, "payment-done"),
                (Topic, "order-placed"),
            ],
            &[
                (E, 0, 1),
                (C, 2, 3),
                (P, 2, 4),
                (S, 4, 1),
                (P, 1, 5),
                (S, 5, 2),
            ],
        );
        let l = layering(&g);
        assert_eq!(l.layer, vec![0, 1, 3, 4, 4, 2]);
        assert_eq!(l.reversed, vec![false, false, false, true, false, false]);
    }

    #[test]
    fn a_cycle_through_a_topic_never_reverses_a_sync_call() {
        // a publishes to t, b consumes t and calls a: the cycle a → t → b → a must be broken
        // at a topic edge, whichever is met first.
        for entry_to in [1, 2] {
            let g = graph(
                &[(Entry, "e"), (Service, "a"), (Service, "b"), (Topic, "t")],
                &[(E, 0, entry_to), (P, 1, 3), (S, 3, 2), (C, 2, 1)],
            );
            let l = layering(&g);
            assert!(!l.reversed[3], "entry to {entry_to}: the sync call is kept");
            assert!(
                l.layer[1] > l.layer[2],
                "entry to {entry_to}: callee right of caller"
            );
            assert_eq!(
                l.reversed.iter().filter(|&&r| r).count(),
                1,
                "entry to {entry_to}: one topic edge reversed"
            );
            // And the rest is consistent: every kept edge goes right.
            for (i, e) in g.edges.iter().enumerate() {
                assert_eq!(
                    l.layer[e.from] < l.layer[e.to],
                    !l.reversed[i],
                    "entry to {entry_to}: edge {i}"
                );
            }
        }
    }

    #[test]
    fn a_hand_made_sync_cycle_does_not_hang_or_panic() {
        let g = graph(
            &[(Entry, "e"), (Service, "a"), (Service, "b")],
            &[(E, 0, 1), (C, 1, 2), (C, 2, 1)],
        );
        let l = layering(&g);
        assert_eq!(l.layer, vec![0, 1, 2]);
        assert_eq!(l.reversed, vec![false, false, true]);
    }

    #[test]
    fn barycenter_sweeps_remove_avoidable_crossings() {
        // Three layers of three; the starting order crosses every edge pair it can.
        //   a b c      a→f, b→e, c→d ; d→i, e→h, f→g
        let succ: Vec<Vec<usize>> = vec![
            vec![5],
            vec![4],
            vec![3],
            vec![8],
            vec![7],
            vec![6],
            vec![],
            vec![],
            vec![],
        ];
        let mut pred = vec![Vec::new(); succ.len()];
        for (u, ws) in succ.iter().enumerate() {
            for &w in ws {
                pred[w].push(u);
            }
        }
        let mut layers = vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8]];
        let mut pos = vec![0; 9];
        for layer in &layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
        assert_eq!(crossings(&layers, &succ, &pos), 6);
        let after = order(&mut layers, &succ, &pred);
        assert_eq!(after, 0);
        for layer in &layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
        assert_eq!(crossings(&layers, &succ, &pos), 0);
    }

    #[test]
    fn barycenter_sweeps_reduce_crossings_of_a_fan() {
        // Two callers sharing callees, listed so that their edges interleave.
        // Layer 0: x y; layer 1: p q r s; x → p, r; y → q, s.
        let succ = vec![vec![2, 4], vec![3, 5], vec![], vec![], vec![], vec![]];
        let mut pred = vec![Vec::new(); succ.len()];
        for (u, ws) in succ.iter().enumerate() {
            for &w in ws {
                pred[w].push(u);
            }
        }
        let mut layers = vec![vec![0, 1], vec![2, 3, 4, 5]];
        let pos = [0, 1, 0, 1, 2, 3];
        let before = crossings(&layers, &succ, &pos);
        assert_eq!(before, 1);
        assert_eq!(order(&mut layers, &succ, &pred), 0);
        assert_eq!(layers[1], vec![2, 4, 3, 5]);
    }

    #[test]
    fn pava_keeps_the_separation_and_the_order() {
        let y = pava(&[0.0, 0.0, 100.0, 90.0], &[10.0, 10.0, 10.0]);
        assert_eq!(y, vec![-5.0, 5.0, 90.0, 100.0]);
        let y = pava(&[50.0, 0.0], &[20.0]);
        assert_eq!(y, vec![15.0, 35.0]);
    }

    #[test]
    fn crossings_count_inversions_only() {
        // Two edges into the same node, or from the same node, do not cross.
        let succ = vec![vec![2], vec![2], vec![], vec![]];
        let layers = vec![vec![0, 1], vec![2, 3]];
        assert_eq!(crossings(&layers, &succ, &[0, 1, 0, 1]), 0);
        let succ = vec![vec![3], vec![2], vec![], vec![]];
        assert_eq!(crossings(&layers, &succ, &[0, 1, 0, 1]), 1);
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(fit("orders", 12.0, 200.0), "orders");
        let cut = fit("a-very-long-service-name-indeed", 12.0, 100.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(text_width(&cut, 12.0) <= 100.0);
        assert_eq!(fit("abc", 12.0, 5.0), "");
    }

    #[test]
    fn text_is_escaped_and_numbers_are_plain() {
        assert_eq!(esc(r#"a<b&"c"'d>"#), "a&lt;b&amp;&quot;c&quot;&apos;d&gt;");
        assert_eq!(esc("x\u{1}y"), "x\u{FFFD}y");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(2.25), "2.3");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(percent(0.99999), "99.99 %");
        assert_eq!(percent(1.0), "100 %");
    }
}

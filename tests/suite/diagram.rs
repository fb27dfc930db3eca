//! The topology diagram: on every bundled topology, on a generated 40-service topology and on
//! odd hand-edited reports, nodes never overlap and stay on the canvas, callees lie right of
//! their callers and topics and work queues between their senders and consumers, entry points
//! point at their service, topic or queue, every node appears once, labels fit their boxes,
//! edges never run behind a node, the SVG parses and draws, names are escaped, and the same
//! report gives the same bytes.

use crate::common::{bundled, model, opts};
use microsim::chart::diagram::{self, EdgeKind, Layout, NodeKind, Rect};
use microsim::report::TargetKind;
use microsim::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The least distance kept between two nodes \[px\] (the layout keeps 16, minus rounding).
const NODE_MARGIN: f64 = 8.0;

/// Runs topology `text` briefly.
fn run(text: &str) -> Report {
    model(text)
        .run(&opts(5.0, 1.0))
        .unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Every geometric property of the diagram of `report`; returns its layout.
fn check_layout(report: &Report, what: &str) -> Layout {
    let l = diagram::layout(report);
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        w: l.width,
        h: l.height,
    };
    assert!(l.width.is_finite() && l.height.is_finite(), "{what}");

    // Every entry point, service, topic and queue exactly once.
    let mut expected: BTreeMap<(NodeKind, String), usize> = BTreeMap::new();
    for e in &report.entries {
        expected.insert((NodeKind::Entry, e.name.clone()), 0);
    }
    for s in &report.services {
        expected.insert((NodeKind::Service, s.name.clone()), 0);
    }
    for t in &report.topics {
        expected.insert((NodeKind::Topic, t.name.clone()), 0);
    }
    for q in &report.queues {
        expected.insert((NodeKind::Queue, q.name.clone()), 0);
    }
    for v in &l.nodes {
        *expected
            .get_mut(&(v.kind, v.name.clone()))
            .unwrap_or_else(|| panic!("{what}: unexpected node {:?} {}", v.kind, v.name)) += 1;
    }
    for ((kind, name), n) in &expected {
        assert_eq!(*n, 1, "{what}: {kind:?} {name} drawn {n} times");
    }

    // Nodes on the canvas, apart from each other, above the legend; labels inside.
    assert!(canvas.contains(&l.legend), "{what}: legend off the canvas");
    assert!(
        canvas.contains(&l.title.extent()),
        "{what}: title off the canvas"
    );
    for (i, v) in l.nodes.iter().enumerate() {
        assert!(
            canvas.contains(&v.rect),
            "{what}: {} off the canvas",
            v.name
        );
        assert!(
            !v.rect.overlaps(&l.legend, NODE_MARGIN) && !v.rect.overlaps(&l.title.extent(), 0.0),
            "{what}: {} on the legend or the title",
            v.name
        );
        for w in &l.nodes[i + 1..] {
            assert!(
                !v.rect.overlaps(&w.rect, NODE_MARGIN),
                "{what}: {} {:?} and {} {:?} overlap",
                v.name,
                v.rect,
                w.name,
                w.rect
            );
        }
        assert!(!v.labels.is_empty(), "{what}: {} has no label", v.name);
        for label in &v.labels {
            assert!(
                v.rect.contains(&label.extent()),
                "{what}: label {:?} ({:.1} px) sticks out of {} {:?}",
                label.text,
                label.width(),
                v.name,
                v.rect
            );
        }
    }
    // Entry points in the first column, alone (if there are any).
    for v in l.nodes.iter().filter(|_| !report.entries.is_empty()) {
        assert_eq!(
            v.kind == NodeKind::Entry,
            v.layer == 0,
            "{what}: {}",
            v.name
        );
    }

    // Edges: what the report says, in the right direction.
    let node = |kind: NodeKind, name: &str| {
        l.nodes
            .iter()
            .position(|v| v.kind == kind && v.name == name)
            .unwrap_or_else(|| panic!("{what}: no node {kind:?} {name}"))
    };
    let edge = |kind: EdgeKind, from: usize, to: usize| {
        let found: Vec<_> = l
            .edges
            .iter()
            .filter(|e| e.kind == kind && e.from == from && e.to == to)
            .collect();
        assert_eq!(found.len(), 1, "{what}: {kind:?} edge {from} → {to}");
        found[0]
    };
    for c in &report.calls {
        let (a, b) = (
            node(NodeKind::Service, &c.from),
            node(NodeKind::Service, &c.to),
        );
        let e = edge(EdgeKind::Sync, a, b);
        let steps = report
            .calls
            .iter()
            .filter(|d| d.from == c.from && d.to == c.to)
            .count();
        assert_eq!(e.count, steps, "{what}: {} → {}", c.from, c.to);
        assert!(
            !e.reversed,
            "{what}: sync call {} → {} reversed",
            c.from, c.to
        );
        let (ra, rb) = (&l.nodes[a], &l.nodes[b]);
        assert!(
            rb.layer > ra.layer && rb.rect.x > ra.rect.right(),
            "{what}: callee {} (layer {}) not right of caller {} (layer {})",
            c.to,
            rb.layer,
            c.from,
            ra.layer
        );
    }
    for en in &report.entries {
        let kind = match en.target {
            TargetKind::Service => NodeKind::Service,
            TargetKind::Topic => NodeKind::Topic,
            TargetKind::Queue => NodeKind::Queue,
        };
        let e = edge(
            EdgeKind::Entry,
            node(NodeKind::Entry, &en.name),
            node(kind, &en.service),
        );
        assert!(!e.reversed, "{what}");
    }
    for t in &report.topics {
        let ti = node(NodeKind::Topic, &t.name);
        for p in &t.publishers {
            let pi = node(NodeKind::Service, p);
            let e = edge(EdgeKind::Publish, pi, ti);
            if !e.reversed {
                assert!(
                    l.nodes[pi].rect.right() < l.nodes[ti].rect.x,
                    "{what}: topic {} not right of its publisher {p}",
                    t.name
                );
            }
        }
        for g in &t.groups {
            let si = node(NodeKind::Service, &g.service);
            let e = edge(EdgeKind::Subscribe, ti, si);
            if !e.reversed {
                assert!(
                    l.nodes[ti].rect.right() < l.nodes[si].rect.x,
                    "{what}: topic {} not left of its subscriber {}",
                    t.name,
                    g.service
                );
            }
        }
    }
    for q in &report.queues {
        let qi = node(NodeKind::Queue, &q.name);
        assert_eq!(
            l.nodes[qi].labels[1].text,
            if q.consumers == 1 {
                "1 consumer".to_string()
            } else {
                format!("{} consumers", q.consumers)
            },
            "{what}: queue {}",
            q.name
        );
        for p in &q.publishers {
            let pi = node(NodeKind::Service, p);
            let e = edge(EdgeKind::Publish, pi, qi);
            assert!(
                flows(&l.nodes[pi].rect, &l.nodes[qi].rect, e.reversed),
                "{what}: queue {} on the wrong side of its sender {p} (reversed: {})",
                q.name,
                e.reversed
            );
        }
        let si = node(NodeKind::Service, &q.service);
        let e = edge(EdgeKind::Subscribe, qi, si);
        assert!(
            flows(&l.nodes[qi].rect, &l.nodes[si].rect, e.reversed),
            "{what}: queue {} on the wrong side of its consumer {} (reversed: {})",
            q.name,
            q.service,
            e.reversed
        );
    }
    // Only edges through a topic or queue are ever reversed (unless the report has a sync
    // cycle, which a simulated one never has).
    for e in l.edges.iter().filter(|e| e.reversed) {
        let ends = [l.nodes[e.from].kind, l.nodes[e.to].kind];
        assert!(
            ends.contains(&NodeKind::Topic) || ends.contains(&NodeKind::Queue),
            "{what}: {:?} edge {} → {} reversed",
            e.kind,
            l.nodes[e.from].name,
            l.nodes[e.to].name
        );
    }

    // Routes: from the source's side to the target's side, never behind another node.
    for e in &l.edges {
        let (a, b) = (&l.nodes[e.from], &l.nodes[e.to]);
        let (first, last) = (e.points[0], e.points[e.points.len() - 1]);
        let what = format!("{what}: edge {} → {}", a.name, b.name);
        let on_side = |r: &Rect, p: [f64; 2], right: bool| {
            let x = if right { r.right() } else { r.x };
            p[0] == x && p[1] >= r.y && p[1] <= r.bottom()
        };
        assert!(
            on_side(&a.rect, first, !e.reversed),
            "{what}: starts off its source"
        );
        assert!(
            on_side(&b.rect, last, e.reversed),
            "{what}: ends off its target"
        );
        for pair in e.points.windows(2) {
            let (p, q) = (pair[0], pair[1]);
            let (lo, hi) = (p[0].min(q[0]), p[0].max(q[0]));
            for v in &l.nodes {
                let r = &v.rect;
                let x_overlap = r.x < hi && r.right() > lo;
                if p[1] == q[1] {
                    // Straight: at one height, through no box (its own ends excepted).
                    assert!(
                        !(x_overlap && p[1] > r.y && p[1] < r.bottom()),
                        "{what}: runs through {}",
                        v.name
                    );
                } else {
                    // Curved: only in the gaps between columns.
                    assert!(!x_overlap, "{what}: curves behind {}", v.name);
                }
            }
        }
    }
    l
}

/// The diagram of `report` as SVG, checked: one chart, it parses, it draws, each service's
/// border has its availability's colour, and rendering again gives the same bytes.
fn check_svg(report: &Report, what: &str) -> String {
    let charts = diagram::render(report);
    assert_eq!(charts.len(), 1, "{what}");
    assert_eq!(charts[0].file, "topology.svg", "{what}");
    let svg = charts[0].svg.clone();
    assert_eq!(
        diagram::render(report)[0].svg,
        svg,
        "{what}: not deterministic"
    );
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default())
        .unwrap_or_else(|e| panic!("{what}: the SVG does not parse: {e}"));
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
        .unwrap_or_else(|| panic!("{what}: empty canvas"));
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let inked = pixmap
        .pixels()
        .iter()
        .filter(|p| (p.red(), p.green(), p.blue()) != (255, 255, 255))
        .count();
    assert!(
        inked * 100 > pixmap.pixels().len(),
        "{what}: the diagram is (nearly) blank"
    );
    let l = diagram::layout(report);
    for v in l.nodes.iter().filter(|v| v.kind == NodeKind::Service) {
        let Some(a) = v.availability else { continue };
        // The colour is the worse of availability and peak utilization: never greener than
        // the availability alone.
        let h = v.health.expect("a service with answers has a health");
        assert!(
            h <= diagram::health(Some(a), None).unwrap() + 1e-12,
            "{what}: {} health {h} above its availability's",
            v.name
        );
        assert_eq!(Some(h), diagram::health(Some(a), v.peak_utilization));
        let c = diagram::health_colour(h);
        let px = pixmap
            .pixel(v.rect.x as u32, (v.rect.y + v.rect.h / 2.0) as u32)
            .unwrap_or_else(|| panic!("{what}: {} outside the pixmap", v.name));
        let close = |x: u8, y: u8| x.abs_diff(y) <= 2;
        assert!(
            close(px.red(), c.0) && close(px.green(), c.1) && close(px.blue(), c.2),
            "{what}: {} drawn in {px:?}, its health {h} is {c:?}",
            v.name
        );
    }
    svg
}

#[test]
fn diagram_of_every_bundled_topology_is_sound() {
    for path in bundled() {
        let what = path.display().to_string();
        let model = microsim::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let report = model
            .run(&opts(10.0, 1.0))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let l = check_layout(&report, &what);
        for e in l.edges.iter().filter(|e| e.reversed) {
            assert!(
                l.nodes[e.from].kind == NodeKind::Queue || l.nodes[e.to].kind == NodeKind::Queue,
                "{what}: no bundled topology has a cycle through a topic (only through queues)"
            );
        }
        let svg = check_svg(&report, &what);
        // Every work queue is drawn (m2 and m3 have some).
        for q in &report.queues {
            assert!(
                svg.contains(&format!("<title>work queue {}</title>", q.name)),
                "{what}: queue {}",
                q.name
            );
        }
        assert_eq!(
            svg.contains("work queue</text>"),
            !report.queues.is_empty(),
            "{what}: the legend shows the queue key when there are queues"
        );
        // The same picture from the report read back from JSON (as `microsim chart` does).
        let back = Report::from_json(&report.to_json()).unwrap();
        assert_eq!(
            diagram::render(&back)[0].svg,
            svg,
            "{what}: differs after JSON"
        );
        // Every service is labelled with its pool.
        for s in &report.services {
            assert!(
                svg.contains(&format!("{} × {}", s.replicas, s.workers)),
                "{what}: {}",
                s.name
            );
        }
    }
}

#[test]
fn diagram_of_order_hybrid_shows_the_topic_between_its_publisher_and_consumers() {
    let (report, l) = bundled_layout("order-hybrid");
    let layer = |name: &str| layer_of(&l, name);
    assert_eq!(layer("checkout"), 0);
    assert_eq!(layer("orders"), 1);
    assert_eq!(layer("inventory"), 2);
    assert_eq!(layer("payments"), 2);
    assert_eq!(layer("order-placed"), 2);
    assert_eq!(layer("fulfilment"), 3);
    assert_eq!(layer("notifications"), 3);
    let topic = l.nodes.iter().find(|v| v.kind == NodeKind::Topic).unwrap();
    assert_eq!(topic.labels[1].text, "6 partitions");
    let dashed = l
        .edges
        .iter()
        .filter(|e| matches!(e.kind, EdgeKind::Publish | EdgeKind::Subscribe))
        .count();
    assert_eq!(dashed, 3);
    let svg = check_svg(&report, "order-hybrid");
    assert!(svg.contains("stroke-dasharray"));
    assert!(!svg.contains("work queue"), "no queue, no queue key");
}

/// Whether an edge from `a` to `b` runs the way it should: left to right, or right to left
/// when it was reversed to break a cycle.
fn flows(a: &Rect, b: &Rect, reversed: bool) -> bool {
    if reversed {
        b.right() < a.x
    } else {
        a.right() < b.x
    }
}

/// A bundled topology's report (10 s, 1 s warm-up) and its checked layout.
fn bundled_layout(name: &str) -> (Report, Layout) {
    let path = crate::common::root().join(format!("topologies/{name}.ron"));
    let report = microsim::load(path).unwrap().run(&opts(10.0, 1.0)).unwrap();
    let l = check_layout(&report, name);
    (report, l)
}

/// The layer of the node called `name` (of any kind).
fn layer_of(l: &Layout, name: &str) -> usize {
    l.nodes
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .layer
}

/// Asserts that no queue node comes near another node.
fn assert_queues_apart(l: &Layout, what: &str) {
    for q in l.nodes.iter().filter(|v| v.kind == NodeKind::Queue) {
        for v in l.nodes.iter().filter(|v| !std::ptr::eq(*v, q)) {
            assert!(
                !q.rect.overlaps(&v.rect, NODE_MARGIN),
                "{what}: queue {} {:?} overlaps {} {:?}",
                q.name,
                q.rect,
                v.name,
                v.rect
            );
        }
    }
}

#[test]
fn diagram_of_m2_and_m3_shows_their_work_queues() {
    // m2: a tandem, clients → q1 → s1 → q2 → … → q5 → s5, one column each.
    let (_, l) = bundled_layout("m2");
    assert_queues_apart(&l, "m2");
    let queues: Vec<_> = l
        .nodes
        .iter()
        .filter(|v| v.kind == NodeKind::Queue)
        .collect();
    assert_eq!(queues.len(), 5);
    assert!(queues.iter().all(|q| q.labels[1].text == "4 consumers"));
    assert_eq!(layer_of(&l, "clients"), 0);
    for i in 1..=5 {
        assert_eq!(layer_of(&l, &format!("q{i}")), 2 * i - 1, "q{i}");
        assert_eq!(layer_of(&l, &format!("s{i}")), 2 * i, "s{i}");
    }
    let count = |kind: EdgeKind| l.edges.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count(EdgeKind::Entry), 1);
    assert_eq!(count(EdgeKind::Publish), 4, "s1..s4 send to the next queue");
    assert_eq!(count(EdgeKind::Subscribe), 5, "each queue to its station");
    assert!(l.edges.iter().all(|e| !e.reversed));

    // m3: 20 stations that may send to every queue: cycles through queues, broken by
    // reversing send edges; the layout stays sound.
    let (report, l) = bundled_layout("m3");
    assert_queues_apart(&l, "m3");
    assert_eq!(
        l.nodes.iter().filter(|v| v.kind == NodeKind::Queue).count(),
        20
    );
    for e in l.edges.iter().filter(|e| e.kind == EdgeKind::Entry) {
        assert_eq!(
            l.nodes[e.to].kind,
            NodeKind::Queue,
            "clients send to queues"
        );
    }
    let sends: usize = report.queues.iter().map(|q| q.publishers.len()).sum();
    assert!(sends >= 20 * 19, "{sends} send edges");
    let reversed: Vec<_> = l.edges.iter().filter(|e| e.reversed).collect();
    assert!(!reversed.is_empty(), "m3 routes in cycles");
    for e in &reversed {
        assert_eq!(
            e.kind,
            EdgeKind::Publish,
            "a station keeps right of its queue"
        );
        assert_eq!(l.nodes[e.to].kind, NodeKind::Queue);
        let (first, last) = (e.points[0], e.points[e.points.len() - 1]);
        assert!(last[0] < first[0], "drawn right to left");
    }
}

#[test]
fn diagram_points_entry_points_at_the_queue_or_topic_they_send_to() {
    // Clients send straight to queue q (worker consumes it), a feed publishes straight to
    // topic t (indexer subscribes); worker sends on to audit-q, whose consumer sometimes sends
    // back to q: a cycle through queues.
    let text = r#"Topology(
        name: "direct",
        workload: [
            (name: "clients", send: "q", arrivals: Poisson(per_second: 100)),
            (name: "feed", publish: "t", arrivals: Poisson(per_second: 50)),
        ],
        services: {
            "worker": (workers: 2, work: Exp(mean: "1ms"), steps: [Send(queue: "audit-q")]),
            "auditor": (work: Exp(mean: "1ms"), steps: [Send(queue: "q", probability: 0.1)]),
            "indexer": (work: Exp(mean: "1ms")),
        },
        queues: {
            "q": (service: "worker", consumers: 2),
            "audit-q": (service: "auditor"),
        },
        topics: { "t": (partitions: 3, subscribers: [(service: "indexer")]) },
    )"#;
    let report = run(text);
    let target = |name: &str| report.entries.iter().find(|e| e.name == name).unwrap();
    assert_eq!(target("clients").target, TargetKind::Queue);
    assert_eq!(target("feed").target, TargetKind::Topic);
    let l = check_layout(&report, "direct");
    assert_queues_apart(&l, "direct");
    let node = |kind: NodeKind, name: &str| {
        l.nodes
            .iter()
            .position(|v| v.kind == kind && v.name == name)
            .unwrap_or_else(|| panic!("no {kind:?} {name}"))
    };
    let entry_to = |from: usize| {
        let to: Vec<_> = l
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Entry && e.from == from)
            .map(|e| e.to)
            .collect();
        to
    };
    let (q, t) = (node(NodeKind::Queue, "q"), node(NodeKind::Topic, "t"));
    assert_eq!(entry_to(node(NodeKind::Entry, "clients")), vec![q]);
    assert_eq!(entry_to(node(NodeKind::Entry, "feed")), vec![t]);
    assert_eq!(l.nodes[q].labels[0].text, "q");
    assert_eq!(l.nodes[q].labels[1].text, "2 consumers");
    assert_eq!(
        l.nodes[node(NodeKind::Queue, "audit-q")].labels[1].text,
        "1 consumer"
    );
    assert_eq!(l.nodes[t].labels[1].text, "3 partitions");
    for (name, layer) in [
        ("clients", 0),
        ("feed", 0),
        ("q", 1),
        ("t", 1),
        ("worker", 2),
        ("indexer", 2),
        ("audit-q", 3),
        ("auditor", 4),
    ] {
        assert_eq!(layer_of(&l, name), layer, "{name}");
    }
    // The cycle q → worker → audit-q → auditor → q is broken at its last edge.
    let reversed: Vec<_> = l.edges.iter().filter(|e| e.reversed).collect();
    assert_eq!(reversed.len(), 1);
    assert_eq!(reversed[0].kind, EdgeKind::Publish);
    assert_eq!(l.nodes[reversed[0].from].name, "auditor");
    assert_eq!(reversed[0].to, q);
    let svg = check_svg(&report, "direct");
    assert!(svg.contains("<title>work queue audit-q</title>"));
    assert!(svg.contains("<title>topic t</title>"));

    // Entry points whose target is missing (or of another kind) get no edge, and no panic.
    let mut odd = report.clone();
    odd.entries[0].target = TargetKind::Topic; // there is no topic "q"
    odd.entries[1].target = TargetKind::Queue;
    odd.entries[1].service = "nowhere".into();
    let l = diagram::layout(&odd);
    assert!(l.edges.iter().all(|e| e.kind != EdgeKind::Entry));
    assert_eq!(
        l.nodes.len(),
        2 + 3 + 1 + 2,
        "entries, services, topic, queues"
    );
    for (i, v) in l.nodes.iter().enumerate() {
        for w in &l.nodes[i + 1..] {
            assert!(
                !v.rect.overlaps(&w.rect, NODE_MARGIN),
                "{} {}",
                v.name,
                w.name
            );
        }
    }
    diagram::render(&odd);
}

/// A 64-bit mixer (SplitMix64): the generated topology is the same on every run.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A topology of `n` ≥ 20 services: three entry points, a seeded random DAG of sync calls (every
/// service but the entry services has a caller among the eight before it; some have more,
/// and the first calls the fourth twice), and two topics with publishers and subscribers
/// (publishers before subscribers, so no cycle through them). Calls are made with probability 0.45, so that a request does
/// not fan out exponentially.
fn generated(n: usize, seed: u64) -> String {
    let mut rng = Mix(seed);
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); n];
    for j in 3..n {
        let back = rng.below(j.min(8) as u64) as usize + 1;
        calls[j - back].push(j);
        if rng.below(3) == 0 {
            let back = rng.below(j.min(8) as u64) as usize + 1;
            if !calls[j - back].contains(&j) {
                calls[j - back].push(j);
            }
        }
    }
    calls[0].push(3);
    let mut publishes: Vec<Vec<&str>> = vec![Vec::new(); n];
    publishes[n / 8].push("events-a");
    publishes[3 * n / 10].push("events-a");
    publishes[n / 2].push("events-b");
    let mut services = String::new();
    for (i, callees) in calls.iter().enumerate() {
        let mut steps = String::new();
        for &j in callees {
            let _ = write!(
                steps,
                r#"Call(to: "svc-{j:02}", timeout: "2s", probability: 0.45), "#
            );
        }
        for t in &publishes[i] {
            let _ = write!(steps, r#"Publish(topic: "{t}"), "#);
        }
        let _ = writeln!(
            services,
            r#"        "svc-{i:02}": (replicas: {}, workers: {}, work: Exp(mean: "1ms"), errors: {}, steps: [{steps}]),"#,
            1 + rng.below(4),
            1 << rng.below(5),
            [0.0, 0.01, 0.05, 0.2][rng.below(4) as usize],
        );
    }
    format!(
        r#"Topology(
    name: "generated-{n}",
    workload: [
        (name: "web", entry: "svc-00", arrivals: Poisson(per_second: 30)),
        (name: "mobile", entry: "svc-01", arrivals: Poisson(per_second: 20)),
        (name: "batch", entry: "svc-02", arrivals: Poisson(per_second: 10)),
    ],
    services: {{
{services}    }},
    topics: {{
        "events-a": (partitions: 4, subscribers: [(service: "svc-{:02}"), (service: "svc-{:02}")]),
        "events-b": (partitions: 2, subscribers: [(service: "svc-{:02}"), (service: "svc-{:02}")]),
    }},
)"#,
        3 * n / 4,
        (3 * n / 4 + 3).min(n - 3),
        n - 2,
        n - 1
    )
}

#[test]
fn diagram_of_a_generated_40_service_topology_is_sound() {
    let report = run(&generated(40, 5));
    assert_eq!(report.services.len(), 40);
    let l = check_layout(&report, "generated-40");
    assert!(l.edges.iter().all(|e| !e.reversed), "no cycle to break");
    assert!(l.layers >= 5, "{} layers", l.layers);
    let doubled = l
        .edges
        .iter()
        .find(|e| e.count == 2)
        .expect("svc-00 calls svc-03 twice");
    // `×2`, then what went wrong on those calls, if anything.
    let text = &doubled.label.as_ref().unwrap().text;
    let (from, to) = (&l.nodes[doubled.from].name, &l.nodes[doubled.to].name);
    let steps: Vec<_> = report
        .calls
        .iter()
        .filter(|c| &c.from == from && &c.to == to)
        .collect();
    assert_eq!(steps.len(), 2);
    let answered: u64 = steps.iter().map(|c| c.outcomes.total()).sum();
    let failed: u64 = steps
        .iter()
        .map(|c| c.outcomes.total() - c.outcomes.available())
        .sum();
    let share = failed as f64 / answered as f64;
    if share > 0.01 {
        let expected = format!("×2 · {} % failed", {
            let s = format!("{:.2}", 100.0 * share);
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        });
        assert_eq!(text, &expected);
        assert!(doubled.bad);
    } else {
        assert_eq!(text, "×2");
        assert!(!doubled.bad);
    }
    check_svg(&report, "generated-40");
}

#[test]
fn diagram_layout_is_sound_on_several_generated_sizes() {
    // The layout alone (no SVG check), on more shapes: small and large.
    for (n, seed) in [(20, 1), (25, 2), (60, 3), (90, 4)] {
        let report = run(&generated(n, seed));
        check_layout(&report, &format!("generated-{n} seed {seed}"));
    }
}

#[test]
fn diagram_draws_a_cycle_through_topics_right_to_left() {
    // A saga: orders publishes order-placed; payments consumes it, calls bank and publishes
    // payment-done, which orders consumes (publishing again with probability 0.3).
    let report = run(r#"Topology(
        name: "saga",
        workload: [(name: "checkout", entry: "orders", arrivals: Poisson(per_second: 20))],
        services: {
            "orders": (workers: 4, work: Exp(mean: "1ms"),
                       steps: [Publish(topic: "order-placed", probability: 0.3)]),
            "payments": (workers: 4, work: Exp(mean: "1ms"),
                         steps: [Call(to: "bank"), Publish(topic: "payment-done")]),
            "bank": (workers: 2, work: Exp(mean: "2ms")),
        },
        topics: {
            "order-placed": (partitions: 2, subscribers: [(service: "payments")]),
            "payment-done": (partitions: 2, subscribers: [(service: "orders")]),
        },
    )"#);
    let l = check_layout(&report, "saga");
    let reversed: Vec<_> = l.edges.iter().filter(|e| e.reversed).collect();
    assert_eq!(reversed.len(), 1, "one edge closes the cycle");
    let back = reversed[0];
    assert_eq!(back.kind, EdgeKind::Subscribe);
    assert_eq!(l.nodes[back.from].name, "payment-done");
    assert_eq!(l.nodes[back.to].name, "orders");
    let (first, last) = (back.points[0], back.points[back.points.len() - 1]);
    assert!(last[0] < first[0], "drawn right to left");
    check_svg(&report, "saga");
}

#[test]
fn diagram_escapes_names() {
    let report = run(r#"Topology(
        name: "<odd> & \"names\"",
        workload: [(name: "e&\"x\"", entry: "a<b&\"c\"'d", arrivals: Poisson(per_second: 20))],
        services: {
            "a<b&\"c\"'d": (workers: 2, work: Exp(mean: "1ms"),
                            steps: [Call(to: "</svg>"), Publish(topic: "t<&>")]),
            "</svg>": (work: Exp(mean: "1ms")),
            "]]>": (work: Exp(mean: "1ms")),
        },
        topics: { "t<&>": (subscribers: [(service: "]]>")]) },
    )"#);
    check_layout(&report, "odd names");
    let svg = check_svg(&report, "odd names");
    for escaped in [
        "a&lt;b&amp;&quot;c&quot;&apos;d",
        "&lt;/svg&gt;",
        "t&lt;&amp;&gt;",
        "e&amp;&quot;x&quot;",
        "]]&gt;",
        "&lt;odd&gt; &amp; &quot;names&quot;",
    ] {
        assert!(svg.contains(escaped), "{escaped} missing");
    }
    for raw in ["a<b", "t<&>", "e&\"", "]]>"] {
        assert!(!svg.contains(raw), "{raw} unescaped");
    }
    assert_eq!(svg.matches("</svg>").count(), 1);
}

#[test]
fn diagram_survives_odd_hand_edited_reports() {
    let base = run(&generated(20, 9));
    let mut odd = base.clone();
    // A repeated service row, a call to a service that does not exist, a sync cycle, a
    // self-call, a utilization that is not a number, control characters, an empty name, a
    // very long name, an entry point to nowhere, a topic with strangers in it.
    odd.services.push(odd.services[3].clone());
    let mut call = odd.calls[0].clone();
    call.to = "nowhere".into();
    odd.calls.push(call.clone());
    (call.from, call.to) = (odd.calls[0].to.clone(), odd.calls[0].from.clone());
    odd.calls.push(call.clone());
    call.from = odd.services[5].name.clone();
    call.to = odd.services[5].name.clone();
    odd.calls.push(call);
    odd.services[1].utilization = f64::NAN;
    odd.services[2].name = "tab\there\u{0}nul".into();
    odd.services[4].name = String::new();
    odd.services[6].name = "x".repeat(500);
    odd.services[7].outcomes = Default::default();
    let mut entry = odd.entries[0].clone();
    entry.name = "lost".into();
    entry.service = "nobody".into();
    odd.entries.push(entry);
    odd.topics[0].publishers.push("ghost".into());
    odd.topics[0].partitions = 1;
    // Edges naming unknown services are left out, so only the geometry is checked here.
    let l = diagram::layout(&odd);
    let canvas = Rect {
        x: 0.0,
        y: 0.0,
        w: l.width,
        h: l.height,
    };
    for (i, v) in l.nodes.iter().enumerate() {
        assert!(canvas.contains(&v.rect), "{}", v.name);
        for w in &l.nodes[i + 1..] {
            assert!(
                !v.rect.overlaps(&w.rect, NODE_MARGIN),
                "{} {}",
                v.name,
                w.name
            );
        }
        for label in &v.labels {
            assert!(v.rect.contains(&label.extent()), "{label:?}");
        }
    }
    assert_eq!(
        l.nodes
            .iter()
            .filter(|v| v.kind == NodeKind::Service)
            .count(),
        20,
        "the repeated row is drawn once"
    );
    assert_eq!(
        l.edges.iter().filter(|e| e.reversed).count(),
        1,
        "the sync cycle is broken once"
    );
    assert!(l
        .nodes
        .iter()
        .any(|v| v.name == "tab\u{FFFD}here\u{FFFD}nul"));
    let long = l.nodes.iter().find(|v| v.name.len() == 500).unwrap();
    assert!(long.labels[0].text.ends_with('…'));
    let idle = l
        .nodes
        .iter()
        .find(|v| v.name == odd.services[7].name)
        .unwrap();
    assert_eq!(idle.availability, None);
    assert!(idle.labels.iter().any(|l| l.text == "no requests"));
    assert!(l
        .nodes
        .iter()
        .any(|v| v.labels.iter().any(|l| l.text == "1 partition")));
    let svg = diagram::render(&odd).remove(0).svg;
    resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default())
        .unwrap_or_else(|e| panic!("the SVG does not parse: {e}"));
    assert!(!svg.contains('\u{0}'));

    // No service, no diagram; no entry point or topic still lays out.
    let mut empty = base.clone();
    empty.services.clear();
    assert!(diagram::render(&empty).is_empty());
    diagram::layout(&empty);
    let mut headless = base;
    headless.entries.clear();
    headless.topics.clear();
    let l = check_layout(&headless, "no entry points");
    assert!(l.nodes.iter().any(|v| v.layer == 0));
}

/// Bundled topology `name` run as its file says.
fn bundled_run(name: &str) -> Report {
    let path = crate::common::root()
        .join("topologies")
        .join(format!("{name}.ron"));
    microsim::load(&path)
        .unwrap()
        .run(&microsim::RunOptions::default())
        .unwrap()
}

#[test]
fn diagram_shows_the_root_cause_of_a_cascade_and_a_busy_service() {
    // cascade.ron: reviews answers everything (and never runs out of workers: api's pool
    // caps what reaches it), but the fault timeline names it; its box is outlined and
    // marked.
    let report = bundled_run("cascade");
    let l = check_layout(&report, "cascade");
    let node = |name: &str| l.nodes.iter().find(|v| v.name == name).unwrap();
    let mark = node("reviews")
        .fault_mark
        .as_ref()
        .expect("reviews is marked");
    assert_eq!(mark.text, "fault: slowdown reviews ×50");
    assert!(node("api").fault_mark.is_none() && node("web").fault_mark.is_none());
    let svg = &diagram::render(&report)[0].svg;
    assert!(svg.contains(">fault: slowdown reviews ×50</text>"), "{svg}");
    assert_eq!(svg.matches("stroke-dasharray=\"5 3\"").count(), 1);
    // api answered every request (availability 100 %) but its pool was full during the
    // slowdown: its peak utilization colours it, where availability alone painted it green.
    let api = node("api");
    assert_eq!(api.availability, Some(1.0));
    let peak = api.peak_utilization.unwrap();
    assert!(peak > 0.9, "{peak}");
    assert!(api.health.unwrap() < 0.2, "{:?}", api.health);
    // mm1: a server at ρ = 0.8 is busy, not healthy-green, at 100 % availability.
    let report = bundled_run("mm1");
    let l = diagram::layout(&report);
    let server = l.nodes.iter().find(|v| v.name == "server").unwrap();
    let h = server.health.unwrap();
    let expected = (0.95 - server.peak_utilization.unwrap()) / 0.45;
    assert!((h - expected).abs() < 1e-12 && h < 0.5, "{h} vs {expected}");
}

#[test]
fn diagram_labels_retries_failures_and_lag_on_the_edges() {
    // The retry storm: every layer retries, and most calls fail.
    let report = bundled_run("retry-storm");
    let l = diagram::layout(&report);
    for c in &report.calls {
        let e = l
            .edges
            .iter()
            .find(|e| l.nodes[e.from].name == c.from && l.nodes[e.to].name == c.to)
            .unwrap();
        let text = &e.label.as_ref().expect("a mark").text;
        let tries = format!("{:.2}", c.amplification);
        let tries = tries.trim_end_matches('0').trim_end_matches('.');
        assert!(
            text.starts_with(&format!("{tries} tries/call · ")),
            "{text}"
        );
        assert!(text.ends_with("% failed"), "{text}");
        assert!(e.bad);
    }
    let svg = &diagram::render(&report)[0].svg;
    assert!(
        svg.contains("stroke=\"#d55e00\""),
        "failing edges in vermillion"
    );
    // lag.ron: the consumer group's backlog on its subscribe edge; side-by-side's groups that
    // keep up carry no mark.
    let report = bundled_run("lag");
    let l = diagram::layout(&report);
    let g = &report.topics[0].groups[0];
    let sub = l
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Subscribe)
        .unwrap();
    let text = &sub.label.as_ref().expect("the lag").text;
    assert!(
        text.starts_with(&format!("max lag {} (", g.max_lag)),
        "{text}"
    );
    assert!(sub.bad);
    let report = microsim::load(crate::common::root().join("tests/data/side-by-side.ron"))
        .unwrap()
        .run(&microsim::RunOptions::default())
        .unwrap();
    let l = diagram::layout(&report);
    for e in l.edges.iter().filter(|e| e.kind == EdgeKind::Subscribe) {
        let group = &l.nodes[e.to].name;
        let lagging = group.ends_with("email");
        assert_eq!(e.label.is_some(), lagging, "{group}: {:?}", e.label);
        assert_eq!(e.bad, lagging, "{group}");
    }
}

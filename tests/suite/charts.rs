//! The data charts (timeline, latency, availability, threads, retries, breakers, queues) on
//! reports of bundled topologies: the plotted points are the report's numbers, every SVG
//! parses and draws a non-blank picture, charts of unused features are left out, output is
//! deterministic, and degenerate reports (no buckets, no answers, NaN) draw without panicking.

use crate::common::{opts, root};
use microsim::chart::{availability, breakers, latency, queues, retries, threads, timeline, Chart};
use microsim::outcome::Outcome;
use microsim::Report;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, roxmltree};
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

/// The bundled topologies the tests run, with run options that keep their effect (every
/// fault inside the run) while keeping the suite quick.
const RUNS: [(&str, Option<(f64, f64)>); 10] = [
    ("mm1", Some((120.0, 5.0))),
    ("cascade", None),
    ("checkout", None),
    ("retry-storm", Some((150.0, 10.0))),
    ("retry-storm-budget", Some((150.0, 10.0))),
    ("breaker", Some((500.0, 10.0))),
    ("lag", None),
    ("registration-events", None),
    ("order-hybrid", None),
    ("availability", None),
];

/// The reports of [`RUNS`], computed once for the whole suite (in parallel).
fn reports() -> &'static HashMap<&'static str, Report> {
    static REPORTS: OnceLock<HashMap<&'static str, Report>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = RUNS
                .iter()
                .map(|&(name, times)| {
                    s.spawn(move || {
                        let path = root().join("topologies").join(format!("{name}.ron"));
                        let model = microsim::load(&path).unwrap_or_else(|e| panic!("{e}"));
                        let options = match times {
                            Some((duration, warmup)) => opts(duration, warmup),
                            None => Default::default(),
                        };
                        let report = model
                            .run(&options)
                            .unwrap_or_else(|e| panic!("{name}: {e}"));
                        (name, report)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a run thread"))
                .collect()
        })
    })
}

/// The report of bundled topology `name` (one of [`RUNS`]).
fn report(name: &str) -> &'static Report {
    reports()
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not in RUNS"))
}

/// Every chart of the modules under test (not the topology diagram), in `render_all` order.
fn data_charts(report: &Report) -> Vec<Chart> {
    let mut charts = Vec::new();
    charts.extend(timeline::render(report));
    charts.extend(latency::render(report));
    charts.extend(availability::render(report));
    charts.extend(threads::render(report));
    charts.extend(retries::render(report));
    charts.extend(breakers::render(report));
    charts.extend(queues::render(report));
    charts
}

fn files(charts: &[Chart]) -> Vec<&str> {
    charts.iter().map(|c| c.file.as_str()).collect()
}

fn chart<'a>(charts: &'a [Chart], file: &str) -> &'a Chart {
    charts
        .iter()
        .find(|c| c.file == file)
        .unwrap_or_else(|| panic!("no {file} among {:?}", files(charts)))
}

/// The elements named `tag` of an SVG document.
fn elements<'a>(doc: &'a roxmltree::Document<'a>, tag: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == tag)
        .collect()
}

/// The number of points of a `points="x,y x,y …"` attribute.
fn point_count(node: &roxmltree::Node<'_, '_>) -> usize {
    node.attribute("points")
        .map_or(0, |p| p.split_whitespace().count())
}

/// The texts of an SVG document.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    elements(&doc, "text")
        .iter()
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// Parses `chart` as XML and renders it with resvg; asserts an 800×500 picture of which at
/// least `min_share` of the pixels are not white, in at least three colours.
fn assert_draws(chart: &Chart, min_share: f64) {
    let what = &chart.file;
    roxmltree::Document::parse(&chart.svg).unwrap_or_else(|e| panic!("{what}: not XML: {e}"));
    let tree = usvg::Tree::from_str(&chart.svg, &usvg::Options::default())
        .unwrap_or_else(|e| panic!("{what}: not SVG: {e}"));
    let size = tree.size().to_int_size();
    assert_eq!((size.width(), size.height()), (800, 500), "{what}");
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("a pixmap");
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    let pixels = pixmap.pixels();
    let inked = pixels
        .iter()
        .filter(|p| p.alpha() == 255 && (p.red(), p.green(), p.blue()) != (255, 255, 255))
        .count();
    let colours: BTreeSet<(u8, u8, u8)> = pixels
        .iter()
        .map(|p| (p.red(), p.green(), p.blue()))
        .collect();
    let share = inked as f64 / pixels.len() as f64;
    assert!(
        share >= min_share,
        "{what}: only {:.2} % of the pixels are drawn",
        share * 100.0
    );
    assert!(colours.len() >= 3, "{what}: {} colours", colours.len());
}

#[test]
fn every_chart_parses_and_draws_a_picture() {
    for (name, report) in reports() {
        let charts = data_charts(report);
        assert!(!charts.is_empty(), "{name}");
        for chart in &charts {
            // Filled charts cover much of the canvas; line charts less.
            let min_share = if chart.file.starts_with("latency")
                || chart.file.starts_with("threads")
                || chart.file.starts_with("retries")
                || chart.file.starts_with("queues")
                || chart.file.starts_with("lag")
            {
                0.02
            } else {
                0.08
            };
            assert_draws(chart, min_share);
            assert!(
                chart.svg.contains(&chart.title),
                "{name}: {} does not show its title",
                chart.file
            );
        }
    }
}

#[test]
fn file_names_are_unique_and_safe() {
    for (name, report) in reports() {
        let charts = data_charts(report);
        let names = files(&charts);
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "{name}: {names:?}");
        for f in names {
            assert!(
                f.ends_with(".svg")
                    && f.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.".contains(c)),
                "{name}: {f}"
            );
        }
    }
}

#[test]
fn charts_of_unused_features_are_left_out() {
    let charts = data_charts(report("mm1"));
    assert_eq!(
        files(&charts),
        [
            "timeline-clients.svg",
            "latency-clients.svg",
            "availability.svg",
            "threads-server.svg",
            "queues.svg"
        ]
    );
    // No retries, breakers or topics in the cascade either; its leaf never waits or queues.
    let charts = data_charts(report("cascade"));
    let names = files(&charts);
    assert!(names.contains(&"threads-web.svg") && names.contains(&"threads-api.svg"));
    assert!(!names.contains(&"threads-reviews.svg"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|f| f.starts_with("retries") || f.starts_with("lag") || *f == "breakers.svg"),
        "{names:?}"
    );
}

#[test]
fn the_timeline_plots_each_bucket_divided_by_its_width() {
    let report = report("cascade");
    let series = &report.series.entries[0];
    let points = timeline::points(report, &series.name);
    let b = report.series.bucket_s;
    assert_eq!(points.len(), series.ok.len());
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.t_s, (i as f64 + 0.5) * b, "bucket {i}");
        let counts = [
            series.ok[i],
            series.error[i],
            series.timeout[i],
            series.rejected[i],
            series.circuit_open[i],
            series.unavailable[i],
            series.degraded[i],
        ];
        for o in Outcome::ALL {
            assert_eq!(
                p.rates[o.index()],
                counts[o.index()] as f64 / b,
                "{o:?} {i}"
            );
        }
        assert_eq!(p.p99_ms, series.p99_ms[i], "bucket {i}");
    }
    assert!(timeline::points(report, "nobody").is_empty());
}

#[test]
fn a_partial_last_bucket_is_divided_by_its_real_width() {
    let model = microsim::load(root().join("topologies/mm1.ron")).expect("mm1 loads");
    let report = model.run(&opts(20.5, 1.0)).expect("mm1 runs");
    let series = &report.series.entries[0];
    let n = series.ok.len();
    assert_eq!(n, 21, "a partial 21st bucket");
    let points = timeline::points(&report, "clients");
    let last = &points[n - 1];
    assert_eq!(last.t_s, 20.25);
    assert_eq!(last.rates[0], series.ok[n - 1] as f64 / 0.5);
    assert_eq!(points[n - 2].rates[0], series.ok[n - 2] as f64);
}

#[test]
fn the_timeline_svg_has_a_band_per_outcome_and_a_point_per_bucket() {
    let report = report("checkout");
    let charts = timeline::render(report);
    let chart = chart(&charts, "timeline-shoppers.svg");
    let series = &report.series.entries[0];
    let n = series.ok.len();
    let occurring = [
        &series.ok,
        &series.error,
        &series.timeout,
        &series.rejected,
        &series.circuit_open,
        &series.unavailable,
        &series.degraded,
    ]
    .iter()
    .filter(|v| v.iter().any(|&c| c > 0))
    .count();
    let doc = roxmltree::Document::parse(&chart.svg).expect("XML");
    let polygons = elements(&doc, "polygon");
    assert_eq!(
        polygons.len(),
        occurring,
        "one band per outcome that occurs"
    );
    for p in &polygons {
        // The top edge through every bucket middle plus both ends, then back.
        assert_eq!(point_count(p), 2 * (n + 2));
    }
    // The p99 line: its runs hold one point per bucket with answers.
    let answered = series.p99_ms.iter().filter(|v| v.is_some()).count();
    // Drawn over a halo; the legend's swatch has a width of 3, the line of 1 or 2.
    let p99_points: usize = elements(&doc, "polyline")
        .iter()
        .filter(|l| l.attribute("stroke") == Some("#F0E442"))
        .filter(|l| l.attribute("stroke-width") != Some("3"))
        .map(point_count)
        .sum();
    let p99_dots = elements(&doc, "circle").len() / 2;
    assert_eq!(p99_points + p99_dots, answered);
    let texts = texts(&chart.svg);
    for label in [
        "time [s]",
        "answers/s",
        "p99 latency [ms]",
        "ok",
        "rejected",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn the_timeline_shades_and_labels_fault_windows_in_minutes_for_long_runs() {
    let report = report("cascade");
    assert!(report.duration_s > 600.0);
    let charts = timeline::render(report);
    let texts = texts(&charts[0].svg);
    assert!(texts.iter().any(|t| t == "time [min]"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t == &report.faults[0].label),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "fault window"), "{texts:?}");
}

#[test]
fn the_latency_curve_is_the_reports_cdf() {
    let report = report("cascade");
    let entry = &report.entries[0];
    let curve = latency::curve(entry);
    assert_eq!(curve.len(), entry.latency_cdf.len());
    let lo = curve[0].0;
    assert!(lo > 0.0, "a log axis starts above 0");
    for (&(ms, q), &[report_ms, report_q]) in curve.iter().zip(&entry.latency_cdf) {
        assert_eq!(q, report_q);
        assert_eq!(ms, report_ms.max(lo));
    }
    // The cascade refuses some requests at once: those are at the left edge.
    assert_eq!(entry.latency_cdf[0][0], 0.0);
    let charts = latency::render(report);
    let doc = roxmltree::Document::parse(&charts[0].svg).expect("XML");
    let longest = elements(&doc, "polyline")
        .iter()
        .map(point_count)
        .max()
        .unwrap_or(0);
    assert_eq!(longest, entry.latency_cdf.len());
    let texts = texts(&charts[0].svg);
    assert!(texts.iter().any(|t| t == "latency [ms] (log scale)"));
    assert!(texts.iter().any(|t| t.starts_with("p99.9 ")), "{texts:?}");
}

/// The x-axis tick labels of a chart: `(x, text)` of the texts centred under the plot on
/// the row where most of them are, sorted by x.
fn x_tick_labels(svg: &str) -> Vec<(f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    let ticks: Vec<(f64, f64, String)> = elements(&doc, "text")
        .iter()
        .filter(|n| n.attribute("text-anchor") == Some("middle"))
        .filter(|n| n.attribute("dy") == Some("0.76em") && n.attribute("transform").is_none())
        .filter_map(|n| {
            let x: f64 = n.attribute("x")?.parse().ok()?;
            let y: f64 = n.attribute("y")?.parse().ok()?;
            Some((x, y, n.text().unwrap_or("").trim().to_string()))
        })
        .filter(|(_, y, _)| *y > 100.0)
        .collect();
    let row = ticks
        .iter()
        .map(|t| t.1 as i64)
        .max_by_key(|y| ticks.iter().filter(|t| t.1 as i64 == *y).count())
        .unwrap_or_default();
    let mut labels: Vec<(f64, String)> = ticks
        .into_iter()
        .filter(|t| t.1 as i64 == row)
        .map(|t| (t.0, t.2))
        .collect();
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    labels
}

#[test]
fn latency_tick_labels_neither_repeat_nor_overlap() {
    // Before: "90" and "100" ran together at x = 509 on order-hybrid's checkout CDF, and
    // async's CDF in side-by-side.ron (the old comparison.ron) drew "10" twice.
    let mut charts = latency::render(side_by_side());
    for &(name, _) in RUNS.iter() {
        charts.extend(latency::render(report(name)));
    }
    assert!(charts.len() >= 10);
    for c in &charts {
        let labels = x_tick_labels(&c.svg);
        assert!(labels.len() >= 2, "{}: {labels:?}", c.file);
        let texts: BTreeSet<&str> = labels.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(
            texts.len(),
            labels.len(),
            "{}: a label twice: {labels:?}",
            c.file
        );
        // The labels are about 12 px high: 7 px a character is a generous width.
        for w in labels.windows(2) {
            let half = |t: &str| t.chars().count() as f64 * 7.0 / 2.0;
            assert!(
                w[1].0 - w[0].0 >= half(&w[0].1) + half(&w[1].1) + 4.0,
                "{}: {:?} and {:?} overlap",
                c.file,
                w[0],
                w[1]
            );
        }
    }
}

/// `tests/data/side-by-side.ron` (the same flow sync, async and hybrid in one topology)
/// shortened to 2 minutes (its three overlapping e-mail outages at 60–90 s inside), computed
/// once.
fn side_by_side() -> &'static Report {
    static REPORT: OnceLock<Report> = OnceLock::new();
    REPORT.get_or_init(|| {
        microsim::load(root().join("tests/data/side-by-side.ron"))
            .unwrap()
            .run(&opts(120.0, 10.0))
            .unwrap()
    })
}

/// `(x, y, text)` of every text of an SVG document that starts with `start`.
fn texts_at(svg: &str, start: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    elements(&doc, "text")
        .iter()
        .filter_map(|n| {
            let text = n.text().unwrap_or("").trim().to_string();
            let x: f64 = n.attribute("x")?.parse().ok()?;
            let y: f64 = n.attribute("y")?.parse().ok()?;
            text.starts_with(start).then_some((x, y, text))
        })
        .collect()
}

#[test]
fn overlapping_fault_windows_are_shaded_in_the_one_grey_of_the_legend() {
    // Three e-mail services crash at the same time: one shaded window, not three stacked.
    let report = side_by_side();
    assert_eq!(report.faults.len(), 3);
    let charts = timeline::render(report);
    let svg = &chart(&charts, "timeline-sync.svg").svg;
    let doc = roxmltree::Document::parse(svg).unwrap();
    let shades: Vec<_> = elements(&doc, "rect")
        .into_iter()
        .filter(|n| n.attribute("fill") == Some("#999999"))
        .filter(|n| {
            n.attribute("height")
                .and_then(|h| h.parse::<f64>().ok())
                .is_some_and(|h| h > 50.0)
        })
        .collect();
    assert_eq!(shades.len(), 1, "one shaded window for the three faults");
    // All three are still labelled.
    for label in ["crash s-email", "crash a-email", "crash h-email"] {
        assert!(texts(svg).iter().any(|t| t == label), "no {label:?}");
    }
}

#[test]
fn a_group_that_keeps_up_draws_calm_and_a_backlog_clears_the_fault_labels() {
    let report = side_by_side();
    let charts = queues::render(report);
    // a-payment keeps up (lag 0–7, its oldest message never waits a second): no peak or
    // drain marks, and the lag axis reaches a second of messages (about 100).
    let calm = &chart(&charts, "lag-orders-a-a-payment.svg").svg;
    let group = report
        .topics
        .iter()
        .flat_map(|t| &t.groups)
        .find(|g| g.service == "a-payment")
        .unwrap();
    assert!(
        group.max_lag < 20 && group.max_time_lag_s < 1.0,
        "{group:?}"
    );
    let all = texts(calm);
    assert!(
        !all.iter()
            .any(|t| t.starts_with("peak") || t.starts_with("drained")),
        "{all:?}"
    );
    let top = all
        .iter()
        .filter_map(|t| t.parse::<f64>().ok())
        .fold(0.0_f64, f64::max);
    assert!(top >= 100.0, "lag axis tops at {top}: {all:?}");
    // a-email builds a backlog of ~3,000 during the outage: its peak label sits below the
    // three fault labels at the top, not on them.
    let busy = &chart(&charts, "lag-orders-a-a-email.svg").svg;
    let peak = texts_at(busy, "peak ");
    assert_eq!(peak.len(), 1, "{:?}", texts(busy));
    let lowest_fault = texts_at(busy, "crash ")
        .iter()
        .map(|t| t.1)
        .fold(0.0_f64, f64::max);
    assert!(
        peak[0].1 >= lowest_fault + 16.0,
        "peak label at y = {} under fault labels down to y = {lowest_fault}",
        peak[0].1
    );
}

#[test]
fn cdf_comparison_overlays_several_runs() {
    let runs = [
        ("retry storm", report("retry-storm")),
        ("with a budget", report("retry-storm-budget")),
    ];
    let chart = latency::cdf_comparison(&runs, "clients").expect("both runs answered");
    assert_eq!(chart.file, "latency-compare-clients.svg");
    assert_draws(&chart, 0.02);
    let doc = roxmltree::Document::parse(&chart.svg).expect("XML");
    let curves: Vec<_> = elements(&doc, "polyline")
        .into_iter()
        .filter(|l| point_count(l) == 33)
        .collect();
    assert_eq!(curves.len(), 2);
    assert_ne!(curves[0].attribute("stroke"), curves[1].attribute("stroke"));
    let texts = texts(&chart.svg);
    assert!(texts.iter().any(|t| t.starts_with("retry storm (p99 ")));
    assert!(latency::cdf_comparison(&runs, "nobody").is_none());
    assert!(latency::cdf_comparison(&[], "clients").is_none());
}

#[test]
fn availability_bars_are_the_simulated_and_analytic_values() {
    let report = report("availability");
    let bars = availability::bars(report);
    assert_eq!(bars.len(), report.entries.len());
    for (bar, e) in bars.iter().zip(&report.entries) {
        assert_eq!(bar.entry, e.name);
        assert_eq!(bar.simulated, Some(e.availability));
        assert_eq!(bar.se, e.availability_se);
        let analytic = report.analysis.entries.iter().find(|a| a.name == e.name);
        assert_eq!(bar.analytic, analytic.map(|a| a.availability));
    }
    let floor = availability::y_floor(&bars);
    for b in &bars {
        assert!(floor < b.simulated.expect("answered") - 2.0 * b.se);
        assert!(floor < b.analytic.expect("analysed"));
    }
    let charts = availability::render(report);
    assert_eq!(files(&charts), ["availability.svg"]);
    let texts = texts(&charts[0].svg);
    assert!(texts.iter().any(|t| t.contains("±2 standard errors")));
    assert!(texts.iter().any(|t| t == "availability (zoomed axis)"));
    for e in &report.entries {
        assert!(texts.contains(&e.name), "{} not labelled", e.name);
        assert!(texts.contains(&format!("{:.4}", e.availability)));
    }
}

#[test]
fn thread_charts_go_to_services_that_wait_or_queue() {
    for (name, report) in reports() {
        let expected: Vec<&str> = report
            .series
            .services
            .iter()
            .filter(|s| {
                s.queue.iter().any(|&q| q > 0.0)
                    || s.occupancy
                        .iter()
                        .any(|o| o.state != "working" && o.workers.iter().any(|&w| w > 0.0))
            })
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(threads::services(report), expected, "{name}");
        let charts = threads::render(report);
        assert_eq!(charts.len(), expected.len(), "{name}");
    }
    let report = report("checkout");
    assert_eq!(threads::pool_size(report, "gateway"), Some(40));
    let charts = threads::render(report);
    let texts = texts(&chart(&charts, "threads-gateway.svg").svg);
    for label in [
        "waiting on payment",
        "queued",
        "pool size (40 workers)",
        "pool 40",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn retry_charts_show_calls_and_attempts_per_second() {
    let report = report("retry-storm");
    let steps = retries::steps(report);
    assert_eq!(steps, [0, 1, 2], "every layer retries");
    let b = report.series.bucket_s;
    for &i in &steps {
        let series = &report.series.calls[i];
        let points = retries::points(report, i);
        assert_eq!(points.len(), series.calls.len());
        for (k, p) in points.iter().enumerate() {
            assert_eq!(p.calls_per_s, series.calls[k] as f64 / b);
            assert_eq!(p.attempts_per_s, series.attempts[k] as f64 / b);
        }
    }
    let charts = retries::render(report);
    assert_eq!(
        files(&charts),
        [
            "retries-front-mid-0.svg",
            "retries-mid-back-1.svg",
            "retries-back-db-2.svg"
        ]
    );
    assert!(retries::steps(self::report("cascade")).is_empty());
}

#[test]
fn breaker_strips_follow_the_transition_log() {
    let report = report("breaker");
    let strips = breakers::strips(report);
    let (step, call) = report
        .calls
        .iter()
        .enumerate()
        .find(|(_, c)| c.breaker.is_some())
        .expect("a breaker");
    let replicas = report.service(&call.from).expect("the caller").replicas;
    assert_eq!(strips.len(), replicas as usize);
    let log = &call.breaker.as_ref().expect("a breaker").log;
    for strip in &strips {
        assert_eq!(strip.step, step);
        let segments = &strip.segments;
        assert_eq!(segments[0].start_s, 0.0);
        assert_eq!(segments[0].state, "closed");
        assert_eq!(segments.last().expect("a segment").end_s, report.duration_s);
        for w in segments.windows(2) {
            assert_eq!(w[0].end_s, w[1].start_s, "contiguous");
        }
        let changes: Vec<_> = log.iter().filter(|t| t.replica == strip.replica).collect();
        assert_eq!(
            segments.len(),
            changes.len() + 1,
            "replica {}",
            strip.replica
        );
        for (segment, change) in segments[1..].iter().zip(changes) {
            assert_eq!(segment.start_s, change.at_s);
            assert_eq!(segment.state, change.to);
        }
    }
    assert!(strips
        .iter()
        .any(|s| s.segments.iter().any(|g| g.state == "open")));
    let charts = breakers::render(report);
    assert_eq!(files(&charts), ["breakers.svg"]);
    let texts = texts(&charts[0].svg);
    for label in ["closed", "open", "half-open", "gateway → payments #1"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn the_lag_chart_marks_when_the_backlog_drained() {
    let report = report("lag");
    let series = &report.series.topics[0];
    let microsim::metrics::drain::Drain::Drained { peak, drained } =
        microsim::metrics::drain::drain(&series.lag)
    else {
        panic!(
            "lag.ron drains: {:?}",
            microsim::metrics::drain::drain(&series.lag)
        );
    };
    let peak_lag = series.lag[peak];
    assert_eq!(Some(&peak_lag), series.lag.iter().max());
    assert!(peak_lag > 1000, "the outage builds a backlog");
    assert!(series.lag[drained] as f64 <= (peak_lag as f64 * 0.01).max(1.0) + 2.0);
    assert!(series.lag[peak..drained]
        .iter()
        .all(|&l| l > series.lag[drained]));
    let after_s = (drained - peak) as f64 * report.series.bucket_s;
    assert!(after_s < 60.0, "drains in seconds, took {after_s} s");
    let charts = queues::render(report);
    assert_eq!(files(&charts), ["lag-signed-up-welcome-mail.svg"]);
    let texts = texts(&charts[0].svg);
    let label = format!("drained after {after_s} s");
    assert!(texts.contains(&label), "no {label:?} in {texts:?}");
    assert!(texts.contains(&format!("peak {peak_lag}")), "{texts:?}");
    for label in ["lag [messages]", "time lag [s]"] {
        assert!(
            texts.iter().any(|t| t == label),
            "no {label:?} in {texts:?}"
        );
    }
}

#[test]
fn the_queue_chart_has_a_line_per_service_that_queued() {
    let report = report("breaker");
    let expected: Vec<&str> = report
        .services
        .iter()
        .filter(|s| s.max_queue > 0)
        .map(|s| s.name.as_str())
        .collect();
    assert!(expected.len() >= 2);
    assert_eq!(queues::queued_services(report), expected);
    let charts = queues::render(report);
    let texts = texts(&chart(&charts, "queues.svg").svg);
    for name in expected {
        assert!(texts.iter().any(|t| t == name), "no {name:?} in {texts:?}");
    }
}

#[test]
fn the_same_report_draws_the_same_bytes_also_after_json() {
    for name in ["breaker", "lag", "availability", "cascade"] {
        let report = report(name);
        let first = data_charts(report);
        assert_eq!(first, data_charts(report), "{name}: twice");
        let back = Report::from_json(&report.to_json()).expect("a report reads back");
        assert_eq!(first, data_charts(&back), "{name}: after JSON");
    }
}

/// Draws every chart of `report`, checking that each SVG parses; returns the file names.
fn draw_all(report: &Report, what: &str) -> Vec<String> {
    let charts = data_charts(report);
    for c in &charts {
        usvg::Tree::from_str(&c.svg, &usvg::Options::default())
            .unwrap_or_else(|e| panic!("{what}: {}: {e}", c.file));
        assert!(
            !c.svg.contains("could not be drawn"),
            "{what}: {}: {}",
            c.file,
            c.svg
        );
    }
    charts.into_iter().map(|c| c.file).collect()
}

#[test]
fn degenerate_reports_draw_without_panicking() {
    let base = report("breaker").clone();

    // Zero-length series: only the availability chart has anything to show (and breakers,
    // whose strips come from the log).
    let mut r = base.clone();
    r.series.entries.iter_mut().for_each(|e| {
        e.ok.clear();
        e.error.clear();
        e.timeout.clear();
        e.rejected.clear();
        e.circuit_open.clear();
        e.unavailable.clear();
        e.degraded.clear();
        e.p99_ms.clear();
    });
    r.series.services.iter_mut().for_each(|s| {
        s.queue.clear();
        s.busy.clear();
        s.occupancy.iter_mut().for_each(|o| o.workers.clear());
    });
    r.series.calls.iter_mut().for_each(|c| {
        c.calls.clear();
        c.attempts.clear();
    });
    let names = draw_all(&r, "no buckets");
    assert!(!names
        .iter()
        .any(|f| f.starts_with("timeline") || f.starts_with("threads")));

    // No answers at all: zero counts, no p99, empty CDFs, NaN availability.
    let mut r = base.clone();
    for e in &mut r.series.entries {
        for v in [
            &mut e.ok,
            &mut e.error,
            &mut e.timeout,
            &mut e.rejected,
            &mut e.circuit_open,
            &mut e.unavailable,
            &mut e.degraded,
        ] {
            v.iter_mut().for_each(|c| *c = 0);
        }
        e.p99_ms.iter_mut().for_each(|p| *p = None);
    }
    for e in &mut r.entries {
        e.latency_cdf.clear();
        e.latency = Default::default();
        e.availability = f64::NAN;
        e.availability_se = f64::NAN;
    }
    r.analysis.entries.clear();
    let names = draw_all(&r, "no answers");
    assert!(names.contains(&"timeline-shoppers.svg".to_string()));
    assert!(!names.iter().any(|f| f.starts_with("latency")));

    // A single bucket, a zero bucket width, a zero duration and NaN everywhere.
    let mut r = base.clone();
    r.series.bucket_s = 0.0;
    r.duration_s = f64::NAN;
    for e in &mut r.series.entries {
        for v in [
            &mut e.ok,
            &mut e.error,
            &mut e.timeout,
            &mut e.rejected,
            &mut e.circuit_open,
            &mut e.unavailable,
            &mut e.degraded,
        ] {
            v.truncate(1);
        }
        e.p99_ms = vec![Some(f64::NAN)];
    }
    for s in &mut r.series.services {
        s.queue = vec![f64::NAN];
        s.occupancy
            .iter_mut()
            .for_each(|o| o.workers = vec![f64::INFINITY]);
    }
    for t in &mut r.series.topics {
        t.lag.truncate(1);
        t.time_lag_s = vec![f64::NAN];
    }
    for e in &mut r.entries {
        e.latency_cdf = vec![[0.0, 0.5], [f64::NAN, 0.9], [0.0, 1.0]];
        e.latency.p50_ms = f64::NAN;
    }
    r.faults[0].start_s = f64::NAN;
    r.faults.push(r.faults[0].clone());
    r.faults[1].start_s = 5.0;
    r.faults[1].end_s = 1.0;
    for c in &mut r.calls {
        if let Some(b) = &mut c.breaker {
            b.log.iter_mut().take(3).for_each(|t| t.at_s = f64::NAN);
            if let Some(t) = b.log.last_mut() {
                t.replica = 7;
                t.to = "jammed".to_string();
            }
        }
    }
    draw_all(&r, "one bucket, NaN");

    // A report without entry points, services, calls or topics draws nothing.
    let mut r = base;
    r.entries.clear();
    r.services.clear();
    r.calls.clear();
    r.faults.clear();
    r.series = Default::default();
    assert!(draw_all(&r, "empty").is_empty());
}

#[test]
fn many_series_and_odd_names_still_draw() {
    // Names with XML's special characters and beyond ASCII.
    let mut r = report("checkout").clone();
    let odd = "a<b & \"c\" → ünï";
    r.entries[0].name = odd.to_string();
    r.series.entries[0].name = odd.to_string();
    r.analysis.entries[0].name = odd.to_string();
    r.services[0].name = odd.to_string();
    r.series.services[0].name = odd.to_string();
    let names = draw_all(&r, "odd names");
    for file in ["timeline-a-b-c-n.svg", "threads-a-b-c-n.svg"] {
        assert!(names.contains(&file.to_string()), "{names:?}");
    }
    let charts = timeline::render(&r);
    assert!(texts_of(&charts, "timeline-a-b-c-n.svg")
        .iter()
        .any(|t| t.starts_with(odd)));

    // Sixty queued services: the legend sums up what does not fit.
    let template = r.services[1].clone();
    let series = r.series.services[1].clone();
    for k in 0..60 {
        let mut s = template.clone();
        s.name = format!("svc-{k}");
        s.max_queue = 5;
        r.services.push(s);
        let mut t = series.clone();
        t.name = format!("svc-{k}");
        t.queue = (0..t.queue.len()).map(|i| ((i + k) % 7) as f64).collect();
        r.series.services.push(t);
    }
    let charts = queues::render(&r);
    let queue_chart = chart(&charts, "queues.svg");
    assert_draws(queue_chart, 0.02);
    let texts = texts(&queue_chart.svg);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("… and ") && t.ends_with(" more")),
        "{texts:?}"
    );

    // Forty breakers.
    let mut r = report("breaker").clone();
    let caller = r
        .calls
        .iter()
        .find(|c| c.breaker.is_some())
        .expect("a breaker")
        .from
        .clone();
    r.services
        .iter_mut()
        .filter(|s| s.name == caller)
        .for_each(|s| s.replicas = 40);
    assert_eq!(breakers::strips(&r).len(), 40);
    let charts = breakers::render(&r);
    assert_draws(&charts[0], 0.08);

    // Far too many to show: the first ones, and the title says so.
    r.services
        .iter_mut()
        .filter(|s| s.name == caller)
        .for_each(|s| s.replicas = u32::MAX);
    for c in &mut r.calls {
        if let Some(t) = c.breaker.as_mut().and_then(|b| b.log.last_mut()) {
            t.replica = u32::MAX;
        }
    }
    assert_eq!(breakers::strips(&r).len(), breakers::MAX_STRIPS);
    let charts = breakers::render(&r);
    assert!(
        charts[0].title.contains("the first 256 of"),
        "{}",
        charts[0].title
    );
}

/// The texts of chart `file` among `charts`.
fn texts_of(charts: &[Chart], file: &str) -> Vec<String> {
    texts(&chart(charts, file).svg)
}

/// Writes the charts of the cascade and lag topologies (and a CDF comparison) to
/// `$MICROSIM_CHARTS_DIR`, or the system's temporary directory under `charts-review`, for
/// looking at them: `cargo test --test suite charts::write_review_charts -- --ignored`.
#[test]
#[ignore = "writes files for a human to look at"]
fn write_review_charts() {
    let dir = std::env::var_os("MICROSIM_CHARTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("charts-review"));
    std::fs::create_dir_all(&dir).expect("the review directory");
    let mut charts = Vec::new();
    for name in ["cascade", "lag", "breaker", "retry-storm", "availability"] {
        charts.extend(
            data_charts(report(name))
                .into_iter()
                .map(|c| (format!("{name}-{}", c.file), c.svg)),
        );
    }
    let runs = [
        ("retry storm", report("retry-storm")),
        ("with a budget", report("retry-storm-budget")),
    ];
    if let Some(c) = latency::cdf_comparison(&runs, "clients") {
        charts.push((c.file, c.svg));
    }
    for (file, svg) in charts {
        std::fs::write(dir.join(&file), svg).expect("a chart file");
    }
}

/// The two charts in the README are what the bundled topologies draw today (regenerate them
/// with the commands in the README when this fails after a change to the engine or charts).
#[test]
fn readme_images_are_current() {
    let root = crate::common::root();
    for (topology, chart, image) in [
        ("cascade.ron", "timeline-users.svg", "cascade-timeline.svg"),
        (
            "order-hybrid.ron",
            "topology.svg",
            "order-hybrid-topology.svg",
        ),
    ] {
        let model = microsim::load(root.join("topologies").join(topology)).unwrap();
        let report = model.run(&microsim::RunOptions::default()).unwrap();
        let drawn = microsim::chart::render_all(&report)
            .into_iter()
            .find(|c| c.file == chart)
            .unwrap_or_else(|| panic!("{topology} draws no {chart}"));
        let committed = std::fs::read_to_string(root.join("docs/images").join(image)).unwrap();
        assert!(
            drawn.svg == committed,
            "docs/images/{image} is out of date: regenerate it with the command in the README"
        );
    }
}

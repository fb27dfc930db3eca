//! Charts and the HTML page of experiments, on small experiments run for real: every SVG
//! parses and draws, the plotted numbers are the result's (and, for the pooled timelines,
//! those of the same runs made one by one), the charts that apply are there and no others,
//! knees and collapse sit where theory puts them, and the page holds every chart, verdict
//! and knee with every name escaped.

use crate::common::model;
use microsim::chart::experiment::{
    availability_timelines, cdf_points, collapse_bars, collapse_lines, comparison_bars,
    headline_metrics, knee_marks, latency_cdfs, recovery_threshold, render_experiment_charts,
    sweep_axis, sweep_lines, thresholds, KneeMark,
};
use microsim::chart::palette;
use microsim::chart::Chart;
use microsim::experiment::{run, Arm, Axis, ExperimentResult, Plan, RecoverySpec, Target};
use microsim::render::render_experiment_html;
use microsim::time::SimDuration;
use microsim::{Model, RunOptions};
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, roxmltree};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Two entry points; the first has a name that needs escaping everywhere.
const SHOP: &str = r#"Topology(
    run: (bucket: "500ms"),
    workload: [
        (name: "web <&> 'x'", entry: "front", arrivals: Poisson(per_second: 200)),
        (name: "batch", entry: "back", arrivals: Poisson(per_second: 200)),
    ],
    services: {
        "front": (workers: 4, work: Exp(mean: "2ms"), steps: [Call(to: "back", timeout: "50ms")]),
        "back": (workers: 8, work: Exp(mean: "3ms"), errors: 0.02),
    },
)"#;

/// The escaped form of the first entry point's name in HTML.
const WEB_ESCAPED: &str = "web &lt;&amp;&gt; &#39;x&#39;";

/// An arm name that needs escaping.
const HOSTILE_ARM: &str = r#"more errors <b>"5%"</b> & 'co'"#;

/// M/M/1 with μ = 1000/s.
const MM1: &str = r#"Topology(
    workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: 500))],
    services: { "s": (work: Exp(mean: "1ms")) },
)"#;

/// M/M/1/21 (μ = 1000/s, a queue of 20) whose server is down from 1 s to 2 s.
const CRASH: &str = r#"Topology(
    run: (bucket: "500ms"),
    workload: [(name: "main", entry: "s", arrivals: Poisson(per_second: 500))],
    services: { "s": (work: Exp(mean: "1ms"), queue: 20) },
    faults: [(at: "1s", lasts: "1s", fault: Crash(service: "s"))],
)"#;

fn secs(s: f64) -> Option<SimDuration> {
    Some(SimDuration((s * 1e9).round() as u64))
}

fn options(duration_s: f64, warmup_s: f64) -> RunOptions {
    RunOptions {
        duration: secs(duration_s),
        warmup: secs(warmup_s),
        ..Default::default()
    }
}

fn plan(arms: Vec<(&str, Model)>, reps: u32, options: RunOptions) -> Plan {
    Plan {
        arms: arms
            .into_iter()
            .map(|(name, model)| Arm {
                name: name.to_string(),
                model,
            })
            .collect(),
        axes: vec![],
        reps,
        master_seed: 7,
        options,
        targets: vec![],
        recovery: RecoverySpec::default(),
    }
}

fn with(m: &Model, set: &str) -> Model {
    m.with_overrides(&[set.parse().unwrap()]).unwrap()
}

/// `SHOP` against itself with five times the errors behind both entry points (4 × 4 s).
pub(crate) fn comparison() -> &'static (Plan, ExperimentResult) {
    static R: OnceLock<(Plan, ExperimentResult)> = OnceLock::new();
    R.get_or_init(|| {
        let base = model(SHOP);
        let worse = with(&base, "services[back].errors=0.1");
        let p = plan(
            vec![("base", base), (HOSTILE_ARM, worse)],
            4,
            options(4.0, 0.5),
        );
        let r = run(&p).unwrap();
        (p, r)
    })
}

/// `SHOP` alone, 3 replications.
fn replications() -> &'static ExperimentResult {
    static R: OnceLock<ExperimentResult> = OnceLock::new();
    R.get_or_init(|| run(&plan(vec![("shop", model(SHOP))], 3, options(3.0, 0.5))).unwrap())
}

/// M/M/1 and M/M/2 (μ = 1000/s per worker) at λ = 300, 600, 900, with a p99 target of 9 ms
/// (broken from λ = 600 with one worker: the p99 is ln(100)/(μ − λ) = 6.6 ms at 300, 11.5 ms
/// at 600) and an availability target that holds everywhere.
fn sweep() -> &'static ExperimentResult {
    static R: OnceLock<ExperimentResult> = OnceLock::new();
    R.get_or_init(|| {
        let mut p = plan(vec![("mm1", model(MM1))], 3, options(5.0, 0.5));
        p.axes = vec![
            Axis::parse("workload[main].arrivals.per_second=300..900:300").unwrap(),
            Axis::parse("services[s].workers=1,2").unwrap(),
        ];
        p.targets = vec![
            Target::parse("p99<=9ms").unwrap(),
            Target::parse("availability>=0.999").unwrap(),
        ];
        run(&p).unwrap()
    })
}

/// `CRASH` at λ = 500 (ρ = 0.5: recovers once the server is back) and λ = 1100 (ρ = 1.1: a
/// full queue turns away about a tenth of the requests for good, below the 0.99 threshold),
/// as a sweep and as a comparison of two arms (4 × 8 s).
fn recovery() -> &'static (ExperimentResult, ExperimentResult) {
    static R: OnceLock<(ExperimentResult, ExperimentResult)> = OnceLock::new();
    R.get_or_init(|| {
        let m = model(CRASH);
        let mut p = plan(vec![("crash", m.clone())], 4, options(8.0, 0.0));
        p.axes = vec![Axis::parse("workload[main].arrivals.per_second=500,1100").unwrap()];
        let swept = run(&p).unwrap();
        let arms = vec![
            ("light", with(&m, "workload[main].arrivals.per_second=500")),
            (
                "overload",
                with(&m, "workload[main].arrivals.per_second=1100"),
            ),
        ];
        let compared = run(&plan(arms, 4, options(8.0, 0.0))).unwrap();
        (swept, compared)
    })
}

/// `SHOP` swept over the call's timeout (durations) and over the batch entry point's service
/// (categories), 2 × 2 s each.
fn other_axes() -> &'static (ExperimentResult, ExperimentResult) {
    static R: OnceLock<(ExperimentResult, ExperimentResult)> = OnceLock::new();
    R.get_or_init(|| {
        let mut p = plan(vec![("shop", model(SHOP))], 2, options(2.0, 0.0));
        p.axes = vec![Axis::parse("services[front].steps[0].timeout=5ms,20ms,80ms").unwrap()];
        let durations = run(&p).unwrap();
        p.axes = vec![Axis::parse("workload[batch].entry=back,front").unwrap()];
        let categories = run(&p).unwrap();
        (durations, categories)
    })
}

/// Every result above, named.
fn all() -> Vec<(&'static str, &'static ExperimentResult)> {
    vec![
        ("comparison", &comparison().1),
        ("replications", replications()),
        ("sweep", sweep()),
        ("recovery sweep", &recovery().0),
        ("recovery comparison", &recovery().1),
        ("duration sweep", &other_axes().0),
        ("category sweep", &other_axes().1),
    ]
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

/// The texts of an SVG document.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "text")
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// The number of points of each `<polyline>` drawn in `colour` with a plain stroke (not the
/// white halo under lines).
fn polylines(svg: &str, colour: plotters::style::RGBColor) -> Vec<usize> {
    let hex = palette::hex(colour).to_uppercase();
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "polyline")
        .filter(|n| n.attribute("stroke") == Some(hex.as_str()))
        .map(|n| {
            n.attribute("points")
                .map_or(0, |p| p.split_whitespace().count())
        })
        .collect()
}

/// Parses `chart` as XML and renders it with resvg: an 800×500 picture with at least
/// `min_share` of its pixels drawn, in at least three colours.
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
fn every_chart_parses_draws_and_shows_its_title() {
    for (name, r) in all() {
        let charts = render_experiment_charts(r);
        assert!(!charts.is_empty(), "{name}: no chart");
        for c in &charts {
            let min_share = if c.file.starts_with("compare-") {
                0.05
            } else {
                0.015
            };
            assert_draws(c, min_share);
            assert!(
                texts(&c.svg).contains(&c.title),
                "{name}: {} does not show its title {:?}",
                c.file,
                c.title
            );
        }
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
fn the_charts_that_apply_and_no_others() {
    // A comparison: bars per headline metric, CDFs and timelines per entry point; no sweep.
    let r = &comparison().1;
    let mut expected: Vec<String> = [
        "web-x-availability",
        "web-x-mean-ms",
        "web-x-p99-ms",
        "batch-availability",
        "batch-mean-ms",
        "batch-p99-ms",
    ]
    .iter()
    .map(|s| format!("compare-{s}.svg"))
    .collect();
    // Totals only where some arm has any (there is no retry policy: never retries).
    for (metric, file) in [
        ("total.retries", "compare-total-retries.svg"),
        ("total.orphaned_work_s", "compare-total-orphaned-work-s.svg"),
    ] {
        if r.cells
            .iter()
            .any(|c| c.metric(metric).unwrap().mean != 0.0)
        {
            expected.push(file.into());
        }
    }
    assert!(!expected.contains(&"compare-total-retries.svg".to_string()));
    for f in ["cdf-web-x", "cdf-batch", "timeline-web-x", "timeline-batch"] {
        expected.push(format!("{f}.svg"));
    }
    assert_eq!(files(&render_experiment_charts(r)), expected);

    // One arm: nothing to compare, but its distribution and timeline.
    assert_eq!(
        files(&render_experiment_charts(replications())),
        [
            "cdf-web-x.svg",
            "cdf-batch.svg",
            "timeline-web-x.svg",
            "timeline-batch.svg"
        ]
    );

    // A sweep without a fault: a chart per headline metric, no map.
    assert_eq!(
        files(&render_experiment_charts(sweep())),
        [
            "sweep-main-availability.svg",
            "sweep-main-mean-ms.svg",
            "sweep-main-p99-ms.svg"
        ]
    );

    // With a fault: the metastability map, or the collapse bars of a comparison.
    let (swept, compared) = recovery();
    let charts = render_experiment_charts(swept);
    let names = files(&charts);
    assert_eq!(names.last(), Some(&"collapse-main.svg"), "{names:?}");
    assert!(names
        .iter()
        .all(|f| f.starts_with("sweep-") || f.starts_with("collapse-")));
    let charts = render_experiment_charts(compared);
    let names = files(&charts);
    assert!(names.contains(&"compare-main-collapse.svg"), "{names:?}");
    assert!(!names
        .iter()
        .any(|f| f.starts_with("collapse-") || f.starts_with("sweep-")));
}

#[test]
fn bars_are_the_means_intervals_and_paired_differences_of_the_result() {
    let r = &comparison().1;
    let groups = comparison_bars(r);
    assert_eq!(
        groups.iter().map(|g| g.metric.clone()).collect::<Vec<_>>(),
        headline_metrics(r)
    );
    for g in &groups {
        assert_eq!(g.bars.len(), 2);
        for (bar, cell) in g.bars.iter().zip(&r.cells) {
            let m = cell.metric(&g.metric).unwrap();
            assert_eq!(bar.arm, cell.arm);
            assert_eq!(bar.mean, Some(m.mean), "{}", g.metric);
            assert_eq!(bar.ci, m.ci, "{}", g.metric);
            assert!(bar.ci.is_some(), "4 replications give an interval");
        }
        assert!(g.bars[0].difference.is_none(), "the baseline has none");
        let row = r.comparisons[0]
            .rows
            .iter()
            .find(|row| row.metric == g.metric)
            .unwrap();
        let d = g.bars[1].difference.as_ref().unwrap();
        assert_eq!(d.mean, row.difference.mean);
        assert_eq!(d.half_width, row.difference.half_width());
        assert_eq!(d.significant, row.significant);
    }
    // Five times the errors: batch availability is lower, by about 0.08 (2 % → 10 %),
    // paired, and marked worse on the chart.
    let g = &groups[3];
    assert_eq!(g.metric, "entries[batch].availability");
    let d = g.bars[1].difference.as_ref().unwrap();
    assert!(
        d.significant && (d.mean + 0.08).abs() < 0.02 && d.better == Some(false),
        "{d:?}"
    );
    let charts = render_experiment_charts(r);
    let shown = texts(&chart(&charts, "compare-batch-availability.svg").svg);
    assert!(
        shown
            .iter()
            .any(|t| t.starts_with("Δ −0.0") && t.ends_with("(worse)")),
        "{shown:?}"
    );
    assert!(shown.contains(&"baseline".to_string()), "{shown:?}");
    // Availabilities near 1 are drawn on a zoomed axis, which says so; latency from 0.
    assert!(
        shown.iter().any(|t| t.ends_with("(zoomed axis)")),
        "{shown:?}"
    );
    let latency = texts(&chart(&charts, "compare-batch-mean-ms.svg").svg);
    assert!(!latency.iter().any(|t| t.contains("zoomed")), "{latency:?}");
    assert!(
        shown.iter().any(|t| t.starts_with("more errors <b>")),
        "{shown:?}"
    );
    // The bars in the arms' colours, one each.
    for i in 0..2 {
        let hex = palette::hex(palette::series(i)).to_uppercase();
        let doc = roxmltree::Document::parse(&chart(&charts, "compare-batch-availability.svg").svg)
            .unwrap();
        let bars = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "rect" && n.attribute("fill") == Some(hex.as_str()))
            .count();
        assert_eq!(bars, 1, "arm {i}");
    }
}

#[test]
fn cdfs_are_those_of_the_pooled_histograms() {
    let r = &comparison().1;
    let charts = render_experiment_charts(r);
    for (entry, file) in [("web <&> 'x'", "cdf-web-x.svg"), ("batch", "cdf-batch.svg")] {
        let cdfs = latency_cdfs(r, entry);
        assert_eq!(cdfs.len(), 2);
        let svg = &chart(&charts, file).svg;
        for (cdf, cell) in cdfs.iter().zip(&r.cells) {
            let pooled = cell.latency.iter().find(|l| l.entry == entry).unwrap();
            let h = pooled.histogram.histogram().unwrap();
            assert_eq!(cdf.points, h.cdf());
            assert_eq!(cdf.answers, pooled.summary.count);
            assert_eq!(cdf.p99_ms, pooled.summary.p99_ms);
            // It ends at the largest answer, and passes through the pooled p50 and p99.
            assert_eq!(*cdf.points.last().unwrap(), [pooled.summary.max_ms, 1.0]);
            for (q, v) in [(0.5, pooled.summary.p50_ms), (0.99, pooled.summary.p99_ms)] {
                assert!(cdf.points.contains(&[v, q]), "{entry}: {q} at {v}");
            }
            // Drawn with every point, in the arm's colour (after its legend swatch).
            let drawn = polylines(svg, palette::series(cdf.index));
            assert_eq!(drawn, [2, cdf_points(&cdf.points, 0.0).len()], "{file}");
        }
    }
    assert!(latency_cdfs(r, "nobody").is_empty());
    assert!(
        latency_cdfs(sweep(), "main").is_empty(),
        "no CDFs of a sweep"
    );
}

#[test]
fn timelines_pool_the_answers_of_the_same_runs_made_one_by_one() {
    let (p, r) = comparison();
    for (a, arm) in p.arms.iter().enumerate() {
        let reports: Vec<_> = (0..p.reps)
            .map(|rep| {
                arm.model
                    .run(&RunOptions {
                        seed: Some(p.seed(rep)),
                        ..p.options.clone()
                    })
                    .unwrap()
            })
            .collect();
        for entry in ["web <&> 'x'", "batch"] {
            let lines = availability_timelines(r, entry);
            let line = &lines[a];
            assert_eq!(line.arm, arm.name);
            let width = reports[0].series.bucket_s;
            assert_eq!(width, 0.5);
            let n = reports[0].series.entries[0].ok.len();
            assert_eq!(line.points.len(), n);
            for (b, &(t, availability)) in line.points.iter().enumerate() {
                let (mut ok, mut answered) = (0u64, 0u64);
                for report in &reports {
                    let s = report
                        .series
                        .entries
                        .iter()
                        .find(|s| s.name == entry)
                        .unwrap();
                    ok += s.ok[b] + s.degraded[b];
                    answered += s.ok[b]
                        + s.degraded[b]
                        + s.error[b]
                        + s.timeout[b]
                        + s.rejected[b]
                        + s.circuit_open[b]
                        + s.unavailable[b];
                }
                assert_eq!(t, (b as f64 + 0.5) * width);
                let expected = (answered > 0).then(|| ok as f64 / answered as f64);
                assert_eq!(availability, expected, "{entry} bucket {b}");
            }
        }
    }
    // Both arms on the chart, in their colours, every bucket drawn (the batch entry point
    // answers in every bucket: one line without a gap, after the legend's swatch).
    let charts = render_experiment_charts(r);
    let svg = &chart(&charts, "timeline-batch.svg").svg;
    for line in availability_timelines(r, "batch") {
        let drawn = polylines(svg, palette::series(line.index));
        assert_eq!(drawn, [2, line.points.len()]);
    }
}

#[test]
fn sweep_lines_follow_the_cells_and_the_knee_is_where_theory_puts_it() {
    let r = sweep();
    let metric = "entries[main].latency.p99_ms";
    let lines = sweep_lines(r, metric);
    assert_eq!(lines.len(), 2, "one line per number of workers");
    assert_eq!(lines[0].fixed, ["1"]);
    assert_eq!(lines[1].fixed, ["2"]);
    for (l, cells) in lines.iter().zip(r.cells.chunks(3)) {
        assert_eq!(
            l.points.iter().map(|p| p.x).collect::<Vec<_>>(),
            [300.0, 600.0, 900.0]
        );
        for (p, c) in l.points.iter().zip(cells) {
            let m = c.metric(metric).unwrap();
            assert_eq!((p.mean, p.ci), (Some(m.mean), m.ci));
            assert_eq!(p.pooled, Some(c.pooled("main").unwrap().p99_ms));
            assert_eq!(p.value, c.point[0]);
        }
    }
    // One worker: the pooled p99 is near ln(100)/(μ − λ) at λ = 300 and 600, on either side
    // of 9 ms (about 3,000 and 6,000 answers a point: a p99 within 15 %).
    for (p, lambda) in lines[0].points.iter().zip([300.0f64, 600.0]) {
        let exact = 100f64.ln() / (1000.0 - lambda) * 1e3;
        let got = p.pooled.unwrap();
        assert!(
            (got / exact - 1.0).abs() < 0.15,
            "λ {lambda}: {got} vs {exact}"
        );
    }
    assert_eq!(
        knee_marks(r, metric),
        [KneeMark {
            target: "p99<=9ms".into(),
            arm: "mm1".into(),
            fixed: vec!["1".into()],
            breaks_at: "600".into(),
            x: 600.0,
        }]
    );
    assert_eq!(thresholds(r, metric), [("p99<=9ms".to_string(), 9.0)]);
    let availability = "entries[main].availability";
    assert!(
        knee_marks(r, availability).is_empty(),
        "it holds everywhere"
    );
    assert_eq!(
        thresholds(r, availability),
        [("availability>=0.999".to_string(), 0.999)]
    );
    let charts = render_experiment_charts(r);
    let shown = texts(&chart(&charts, "sweep-main-p99-ms.svg").svg);
    for label in [
        "workers=1: p99<=9ms breaks at 600",
        "target p99<=9ms",
        "workers=1",
        "workers=2",
    ] {
        assert!(shown.iter().any(|t| t == label), "{label}: {shown:?}");
    }
    // A band per line: one polygon each.
    let doc = roxmltree::Document::parse(&chart(&charts, "sweep-main-p99-ms.svg").svg).unwrap();
    let bands = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "polygon")
        .count();
    assert_eq!(bands, 2);
}

#[test]
fn sweeps_of_durations_and_of_names_are_placed_by_value_and_in_order() {
    let (durations, categories) = other_axes();
    let x = sweep_axis(&durations.header.axes[0]);
    assert_eq!(x.positions, [5.0, 20.0, 80.0]);
    assert_eq!(x.label, "services[front].steps[0].timeout [ms]");
    let lines = sweep_lines(durations, "entries[batch].availability");
    assert_eq!(
        lines[0].points.iter().map(|p| p.x).collect::<Vec<_>>(),
        [5.0, 20.0, 80.0]
    );
    let x = sweep_axis(&categories.header.axes[0]);
    assert!(x.categorical);
    assert_eq!(x.positions, [0.0, 1.0]);
    let charts = render_experiment_charts(categories);
    let shown = texts(&chart(&charts, "sweep-batch-availability.svg").svg);
    for label in ["back", "front", "workload[batch].entry"] {
        assert!(shown.iter().any(|t| t == label), "{label}: {shown:?}");
    }
}

#[test]
fn the_metastability_map_tells_recovery_from_collapse() {
    let (swept, compared) = recovery();
    let lines = collapse_lines(swept, "main");
    assert_eq!(lines.len(), 1);
    let points = &lines[0].points;
    assert_eq!(
        points
            .iter()
            .map(|p| (p.x, p.collapsed, p.measured))
            .collect::<Vec<_>>(),
        [(500.0, 0, 4), (1100.0, 4, 4)]
    );
    for (p, c) in points.iter().zip(&swept.cells) {
        let rec = &c.recovery[0];
        assert_eq!(p.fraction, Some(rec.collapsed_fraction));
        assert_eq!(p.ci, rec.collapsed_ci);
    }
    // The Wilson intervals of 0/4 and 4/4 ([0, 0.49] and [0.51, 1]) do not overlap.
    assert!(points[0].ci.unwrap()[1] < points[1].ci.unwrap()[0]);
    let charts = render_experiment_charts(swept);
    let shown = texts(&chart(&charts, "collapse-main.svg").svg);
    assert!(shown.contains(&"0/4".to_string()) && shown.contains(&"4/4".to_string()));
    // The same as bars of a comparison.
    let bars = collapse_bars(compared);
    assert_eq!(bars.len(), 1);
    let got: Vec<_> = bars[0]
        .bars
        .iter()
        .map(|b| (b.arm.as_str(), b.mean))
        .collect();
    assert_eq!(got, [("light", Some(0.0)), ("overload", Some(1.0))]);
    for (b, c) in bars[0].bars.iter().zip(&compared.cells) {
        assert_eq!(b.ci, c.recovery[0].collapsed_ci);
    }
    // The timelines of the comparison draw the threshold of recovery.
    assert_eq!(recovery_threshold(compared, "main"), Some(0.99));
    let charts = render_experiment_charts(compared);
    let shown = texts(&chart(&charts, "timeline-main.svg").svg);
    assert!(
        shown.contains(&"recovered: at or above 0.99".to_string()),
        "{shown:?}"
    );
    assert!(
        collapse_lines(sweep(), "main").is_empty(),
        "no fault, no map"
    );
    assert_eq!(recovery_threshold(&comparison().1, "batch"), None);
    assert!(collapse_bars(&comparison().1).is_empty());
}

#[test]
fn charts_are_deterministic_and_the_same_from_saved_json() {
    for (name, r) in all() {
        let charts = render_experiment_charts(r);
        assert_eq!(charts, render_experiment_charts(r), "{name}");
        let back = ExperimentResult::from_json(&r.to_json()).unwrap();
        assert_eq!(charts, render_experiment_charts(&back), "{name}: from JSON");
    }
}

#[test]
fn one_replication_draws_bars_without_whiskers_and_a_page_that_says_so() {
    let base = model(SHOP);
    let worse = with(&base, "services[back].errors=0.1");
    let r = run(&plan(vec![("a", base), ("b", worse)], 1, options(2.0, 0.0))).unwrap();
    let charts = render_experiment_charts(&r);
    let groups = comparison_bars(&r);
    assert!(!groups.is_empty());
    assert!(groups.iter().flat_map(|g| &g.bars).all(|b| b.ci.is_none()));
    for c in &charts {
        assert_draws(c, 0.015);
    }
    let html = render_experiment_html(&r, &charts);
    assert!(html.contains("With one replication there is no interval"));
    assert!(
        html.contains("one replication, no interval"),
        "the verdicts say so"
    );
    assert!(!html.contains("NaN") && !html.contains(">inf<"), "{html}");
}

// ---------------------------------------------------------------------------------------
// The page.

/// Decodes standard base64.
fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

/// The SVGs of the page's `data:image/svg+xml` images, in order.
fn embedded_svgs(html: &str) -> Vec<String> {
    const PREFIX: &str = "src=\"data:image/svg+xml;base64,";
    html.match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &html[at + PREFIX.len()..];
            let end = rest.find('"').expect("the src attribute is closed");
            String::from_utf8(base64_decode(&rest[..end])).expect("the SVG is UTF-8")
        })
        .collect()
}

/// `text` escaped as the page escapes it.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn the_page_has_every_chart_table_verdict_and_knee() {
    for (name, r) in all() {
        let charts = render_experiment_charts(r);
        let html = render_experiment_html(r, &charts);
        assert!(html.starts_with("<!DOCTYPE html>\n") && html.ends_with("</html>\n"));
        assert_eq!(
            embedded_svgs(&html),
            charts.iter().map(|c| c.svg.clone()).collect::<Vec<_>>(),
            "{name}: every chart inline, in order"
        );
        for c in &charts {
            let title = esc(&c.title);
            assert!(
                html.contains(&format!("alt=\"{title}\"")),
                "{name}: {}",
                c.file
            );
            assert!(html.contains(&format!("<figcaption>{title}</figcaption>")));
        }
        for cmp in &r.comparisons {
            for row in &cmp.rows {
                assert!(html.contains(&esc(&row.verdict)), "{name}: {}", row.verdict);
            }
        }
        // A row per cell in each entry point's table, and every metric of every cell.
        for c in &r.cells {
            for m in &c.metrics {
                assert!(
                    html.contains(&format!("<td>{}</td>", esc(&m.name))),
                    "{}",
                    m.name
                );
            }
        }
        for reference in ["http://", "https://", "src=\"//", "@import", "url("] {
            assert!(
                !html.contains(reference),
                "{name}: the page refers to {reference}"
            );
        }
        assert_eq!(html.matches("<script").count(), 1, "{name}");
        assert!(!html.contains("NaN"), "{name}");
        assert_eq!(
            html,
            render_experiment_html(r, &charts),
            "{name}: deterministic"
        );
        let sections = [
            ("recovery", r.cells.iter().any(|c| !c.recovery.is_empty())),
            ("comparisons", !r.comparisons.is_empty()),
            ("knees", !r.knees.is_empty()),
            ("charts", !charts.is_empty()),
            ("results", true),
            ("metrics", true),
        ];
        for (id, present) in sections {
            assert_eq!(
                html.contains(&format!("<h2 id=\"{id}\">")),
                present,
                "{name}: section {id}"
            );
            assert_eq!(html.contains(&format!("<a href=\"#{id}\">")), present);
        }
    }
    // The knees of the sweep, as a row each.
    let html = render_experiment_html(sweep(), &[]);
    assert!(html.contains(
        "<tr><td><code>p99&lt;=9ms</code></td><td>1</td><td>300</td>\
         <td><span class=\"worse\">600</span></td></tr>"
    ));
    assert!(html.contains(
        "<tr><td><code>p99&lt;=9ms</code></td><td>2</td><td>900</td>\
         <td><span class=\"better\">holds everywhere</span></td></tr>"
    ));
    // The comparison's significant verdicts are listed, marked worse.
    let (_, r) = comparison();
    let html = render_experiment_html(r, &[]);
    let batch = r.comparisons[0]
        .rows
        .iter()
        .find(|row| row.metric == "entries[batch].availability")
        .unwrap();
    assert!(html.contains(&format!("<li class=\"worse\">{}</li>", esc(&batch.verdict))));
    // The recovery table says who collapsed.
    let html = render_experiment_html(&recovery().0, &[]);
    assert!(html.contains("<td>1100</td><td>main</td><td class=\"n\">4 of 4</td>"));
}

#[test]
fn the_page_escapes_every_name() {
    let (_, r) = comparison();
    let charts = render_experiment_charts(r);
    let html = render_experiment_html(r, &charts);
    for raw in [HOSTILE_ARM, "web <&> 'x'", "<b>", "'co'"] {
        assert!(!html.contains(raw), "{raw} went into the page unescaped");
    }
    assert!(html.contains(&esc(HOSTILE_ARM)));
    assert!(html.contains(&format!("<h3>{WEB_ESCAPED}</h3>")));
    assert!(html.contains(&format!("<h3>{} vs base</h3>", esc(HOSTILE_ARM))));
    // A hostile topology name and chart title too.
    let mut r = r.clone();
    r.header.topology = "<script>alert(\"x\")</script>".into();
    let charts = vec![Chart {
        file: "a.svg".into(),
        title: "t <&>".into(),
        svg: charts[0].svg.clone(),
    }];
    let html = render_experiment_html(&r, &charts);
    assert!(!html.contains("alert(\"x\")"));
    assert!(html.contains("<title>microsim · comparison · &lt;script&gt;"));
    assert!(html.contains("alt=\"t &lt;&amp;&gt;\""));
}

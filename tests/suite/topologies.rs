//! Every bundled topology loads, its analytic shadow is sound, and it runs (shortened).

use crate::common::{bundled, opts};
use microsim::render::{render_analysis, render_summary};
use microsim::Report;

#[test]
fn every_bundled_topology_loads_analyzes_and_runs() {
    for path in bundled() {
        let name = path.display().to_string();
        let model = microsim::load(&path).unwrap_or_else(|e| panic!("{e}"));

        let analysis = model.analyze();
        assert_eq!(analysis.entries.len(), model.entries().len(), "{name}");
        assert_eq!(analysis.services.len(), model.services().len(), "{name}");
        for e in &analysis.entries {
            assert!((0.0..=1.0).contains(&e.availability), "{name}: {e:?}");
            assert!(e.rate_per_s > 0.0, "{name}: {e:?}");
        }
        for s in &analysis.services {
            assert!(
                s.utilization.is_finite() && s.utilization >= 0.0,
                "{name}: {s:?}"
            );
            assert!(
                s.arrival_rate_per_s > 0.0,
                "{name}: {} gets no traffic",
                s.name
            );
        }
        assert!(!render_analysis(&model, &analysis).is_empty());

        let options = opts(20.0, 2.0);
        let report = model
            .run(&options)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(report.events > 0, "{name}");
        for e in &report.entries {
            assert!(
                e.offered > 0 && e.outcomes.ok > 0,
                "{name}: entry {}",
                e.name
            );
        }
        for s in &report.services {
            assert!(s.arrivals > 0, "{name}: service {} saw nothing", s.name);
        }
        // Of the window the run measured (its 20 s, not the file's duration).
        assert_eq!(
            report.analysis,
            model.analyze_for(&options),
            "{name}: the report carries the analysis"
        );
        assert!(render_summary(&report).contains(&report.topology), "{name}");
        let json = report.to_json();
        let back = Report::from_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_same_json(&json, &back.to_json(), &name);
    }
}

/// The two JSON texts have the same structure, strings and integers, and floats equal up to
/// 4 ulp: serde_json without its `float_roundtrip` feature may parse a float 1 ulp off, so
/// bit-exact equality of a report read back is not guaranteed.
fn assert_same_json(a: &str, b: &str, name: &str) {
    use serde_json::Value;
    fn walk(a: &Value, b: &Value, path: &str, name: &str) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                assert_eq!(x.len(), y.len(), "{name}: {path}");
                for (k, v) in x {
                    let w = y
                        .get(k)
                        .unwrap_or_else(|| panic!("{name}: {path}.{k} lost"));
                    walk(v, w, &format!("{path}.{k}"), name);
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                assert_eq!(x.len(), y.len(), "{name}: {path}");
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(v, w, &format!("{path}[{i}]"), name);
                }
            }
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()),
                    "{name}: {path}: {x} vs {y}"
                );
            }
            _ => assert_eq!(a, b, "{name}: {path}"),
        }
    }
    let parse = |t: &str| serde_json::from_str::<Value>(t).expect("valid JSON");
    walk(&parse(a), &parse(b), "", name);
}

/// The sample output in the README is what `microsim run topologies/checkout.ron` prints
/// today (less the wall-time footer): a golden file that cannot rot.
#[test]
fn readme_sample_output_is_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme
        .find("```text\nmicrosim · checkout")
        .expect("the README shows checkout's summary")
        + "```text\n".len();
    let len = readme[start..].find("```").expect("the block is closed");
    let shown = &readme[start..start + len];
    let model = microsim::load(root.join("topologies/checkout.ron")).unwrap();
    let report = model.run(&microsim::RunOptions::default()).unwrap();
    let actual = microsim::render::render_summary(&report);
    assert_eq!(
        shown.trim_end(),
        actual.trim_end(),
        "README.md's sample output is stale: replace it with the output of \
         `cargo run --release -- run topologies/checkout.ron` (without the wall-time line)"
    );
}

//! Every claim of `topologies/comparison.ron`'s header comment, checked by running the model,
//! and the README's copy of its comparison table.
//!
//! # How a claim is checked
//! The header's numbers are means of the experiment it names: `microsim compare
//! topologies/comparison.ron --reps 10`, i.e. the variants sync, async and hybrid, 10
//! replications each, master seed 5 (the file's own), the same seeds in every variant (common
//! random numbers). [`experiment`] runs exactly that, once. A number claimed "≈ 0.82" is
//! written to a precision (0.01); it passes when the mean of the 10 replications lies within
//! half a unit of that precision (the comment's rounding) plus the half-width of its 95 %
//! interval, and that half-width must itself be below the precision, or the check would
//! accept almost anything. A claim that one variant beats another is checked on the paired
//! difference, replication by replication: its 95 % interval must exclude 0 on the claimed
//! side. Analytic claims (the shadow's time held per order) are deterministic and checked to
//! half a unit of their last digit. An interval misses its mean about one time in twenty;
//! the seeds are fixed, so a pass is reproducible, and a change of the engine that moves a
//! number by more than its rounding fails here.

use crate::common::root;
use microsim::experiment::{run, Arm, CellResult, ExperimentResult, Plan};
use microsim::stats::{paired_difference, Estimate};
use microsim::{Model, RunOptions};
use std::sync::OnceLock;

/// The variants, in the file's order; the first is the baseline of the comparison.
const VARIANTS: [&str; 3] = ["sync", "async", "hybrid"];

/// Replications, as in the header's command.
const REPS: usize = 10;

/// Seconds measured per run: 3 minutes less the 10 s warm-up.
const MEASURED_S: f64 = 170.0;

fn file() -> Model {
    microsim::load(root().join("topologies/comparison.ron")).unwrap()
}

/// The header's experiment, run once for all the tests below.
fn experiment() -> &'static ExperimentResult {
    static RESULT: OnceLock<ExperimentResult> = OnceLock::new();
    RESULT.get_or_init(|| {
        let base = file();
        let plan = Plan {
            arms: VARIANTS
                .iter()
                .map(|&name| Arm {
                    name: name.into(),
                    model: base.variant(name).unwrap(),
                })
                .collect(),
            axes: vec![],
            reps: REPS as u32,
            master_seed: base.run_config().seed,
            options: RunOptions::default(),
            targets: vec![],
            recovery: Default::default(),
        };
        run(&plan).unwrap()
    })
}

fn cell(arm: &str) -> &'static CellResult {
    experiment().cells.iter().find(|c| c.arm == arm).unwrap()
}

/// The per-replication values of `metric` in variant `arm`.
fn values(arm: &str, metric: &str) -> Vec<f64> {
    let v = cell(arm).values(metric);
    assert_eq!(v.len(), REPS, "{arm}: {metric}");
    v
}

/// Checks a claim "≈ `claimed`" written to `precision` against the mean of `samples` and its
/// 95 % interval (see the module docs).
#[track_caller]
fn about(what: &str, samples: &[f64], claimed: f64, precision: f64) {
    let e = Estimate::from_samples(samples);
    let h = e.half_width.unwrap();
    println!("{what}: {:.4} ± {h:.4} (claimed ≈ {claimed})", e.mean);
    assert!(
        h < precision,
        "{what}: the interval ±{h} is wider than the claim's precision {precision}"
    );
    assert!(
        (e.mean - claimed).abs() <= precision / 2.0 + h,
        "{what}: comparison.ron claims ≈ {claimed}, the experiment gives {:.4} ± {h:.4}",
        e.mean
    );
}

/// Checks that `arm`'s `metric` is above `base`'s, replication by replication.
#[track_caller]
fn higher(metric: &str, arm: &str, base: &str) {
    let d = paired_difference(&values(base, metric), &values(arm, metric));
    let (lo, hi) = d.interval().unwrap();
    println!(
        "{metric}: {arm} − {base} = {:+.4} [{lo:+.4}, {hi:+.4}]",
        d.mean
    );
    assert!(lo > 0.0, "{metric}: {arm} − {base} in {lo}..{hi}");
}

/// The analytic shadow's time a checkout worker is held per order, in variant `name` [ms].
fn analytic_held_ms(name: &str) -> f64 {
    let a = file().variant(name).unwrap().analyze();
    a.services
        .iter()
        .find(|s| s.name == "checkout")
        .unwrap()
        .mean_holding_ms
}

#[test]
fn the_variants_share_their_services_and_change_only_how_checkout_talks_to_them() {
    let base = file();
    let names: Vec<&str> = base.variants().iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, VARIANTS);
    // `sync` is the file as written.
    assert!(base.variants()[0].overrides.is_empty());
    let shape = |m: &Model| {
        m.services()
            .iter()
            .map(|s| (s.name.clone(), s.replicas, s.workers))
            .collect::<Vec<_>>()
    };
    for v in VARIANTS {
        let m = base.variant(v).unwrap();
        assert_eq!(shape(&m), shape(&base), "{v}");
        assert_eq!(m.entries().len(), 1, "{v}");
        assert_eq!(
            format!("{:?}", m.faults()),
            format!("{:?}", base.faults()),
            "{v}"
        );
    }
    let steps = |v: &str| {
        let m = base.variant(v).unwrap();
        (m.calls().len(), m.publishes().len())
    };
    assert_eq!(steps("sync"), (4, 0));
    assert_eq!(steps("async"), (0, 1));
    assert_eq!(steps("hybrid"), (2, 1));
}

#[test]
fn sync_loses_the_outage_async_and_hybrid_lose_nothing() {
    let avail = "entries[orders].availability";
    about("sync availability", &values("sync", avail), 0.82, 0.01);
    // The outage's share: 30 s of the 170 s measured. Orders in flight when it starts or
    // ends (at most 20, of about 17,000) move this by about 0.001.
    let e = Estimate::from_samples(&values("sync", avail));
    let share = 1.0 - 30.0 / MEASURED_S;
    assert!(
        (e.mean - share).abs() <= e.half_width.unwrap() + 0.002,
        "{} vs {share}",
        e.mean
    );
    // Every failed order failed `unavailable` (the crashed e-mail service), about 100/s × 30 s.
    for outcome in ["error", "timeout", "rejected", "circuit_open"] {
        let v = values("sync", &format!("entries[orders].outcomes.{outcome}"));
        assert!(v.iter().all(|&x| x == 0.0), "sync {outcome}: {v:?}");
    }
    let unavailable = values("sync", "entries[orders].outcomes.unavailable");
    about("sync unavailable", &unavailable, 3_000.0, 100.0);
    // Async and hybrid answer every order, in every replication.
    for v in ["async", "hybrid"] {
        let a = values(v, avail);
        assert!(a.iter().all(|&x| x == 1.0), "{v}: {a:?}");
        higher(avail, v, "sync");
    }
}

#[test]
fn the_email_group_lags_through_the_outage_and_drains_in_about_19_s() {
    for v in ["async", "hybrid"] {
        let group = "topics[orders].groups[email]";
        about(
            &format!("{v} e-mail max lag"),
            &values(v, &format!("{group}.max_lag")),
            3_000.0,
            100.0,
        );
        about(
            &format!("{v} e-mail drained in s"),
            &values(v, &format!("{group}.drained_in_s")),
            19.0,
            1.0,
        );
        // Its capacity: 8 consumers, one message each, 30 ms per message.
        let a = file().variant(v).unwrap().analyze();
        let g = a.topics[0]
            .groups
            .iter()
            .find(|g| g.service == "email")
            .unwrap();
        assert!((g.capacity_per_s - 8.0 / 0.030).abs() < 0.5, "{g:?}");
        // The other groups keep up: never more than 15 messages behind, in any replication.
        let others: &[&str] = if v == "async" {
            &["inventory", "payment", "analytics"]
        } else {
            &["analytics"]
        };
        for o in others {
            let lag = values(v, &format!("topics[orders].groups[{o}].max_lag"));
            assert!(lag.iter().all(|&l| l <= 15.0), "{v} {o}: {lag:?}");
        }
    }
}

#[test]
fn latency_orders_sync_hybrid_async_and_async_answers_before_the_payment() {
    let p99 = "entries[orders].latency.p99_ms";
    about("sync p99 ms", &values("sync", p99), 180.0, 10.0);
    about("hybrid p99 ms", &values("hybrid", p99), 100.0, 10.0);
    about("async p99 ms", &values("async", p99), 10.0, 1.0);
    higher(p99, "sync", "hybrid");
    higher(p99, "hybrid", "async");
    // Async's mean answer, ≈ 3 ms, is shorter than payment's mean work of 20 ms: the answer
    // cannot wait for the charge.
    let mean = values("async", "entries[orders].latency.mean_ms");
    about("async mean ms", &mean, 3.0, 1.0);
    let model = file();
    let work_ms = model.service("payment").unwrap().work.mean_ns() / 1e6;
    assert!((work_ms - 20.0).abs() < 1e-9, "{work_ms}");
    assert!(mean.iter().all(|&m| m < work_ms), "{mean:?}");
}

#[test]
fn checkout_holds_a_worker_62_3_28_ms_per_order() {
    // The analytic shadow, without the outage, and the capacity of 20 workers it implies.
    for (v, held, capacity, precision) in [
        ("sync", 62.0, 320.0, 10.0),
        ("hybrid", 28.0, 710.0, 10.0),
        ("async", 3.0, 6_700.0, 100.0),
    ] {
        let h = analytic_held_ms(v);
        println!(
            "{v}: analytic {h:.3} ms held per order, {:.0} orders/s",
            20e3 / h
        );
        assert!((h - held).abs() <= 0.5, "{v}: {h} ms");
        assert!(
            (20e3 / h - capacity).abs() <= precision / 2.0,
            "{v}: {}",
            20e3 / h
        );
    }
    // Measured over the run: busy workers × measured time / orders.
    let held = |v: &str| -> Vec<f64> {
        values(v, "services[checkout].mean_busy_workers")
            .iter()
            .zip(values(v, "services[checkout].arrivals"))
            .map(|(busy, n)| busy * MEASURED_S / n * 1e3)
            .collect()
    };
    about("sync measured held ms", &held("sync"), 56.0, 1.0);
    about("hybrid measured held ms", &held("hybrid"), 28.0, 1.0);
    about("async measured held ms", &held("async"), 3.0, 1.0);
    // Sync's orders that fail at the e-mail call never call analytics: analytics gets the
    // e-mail call's successes (and the few still in flight), not its calls.
    let email_ok = values("sync", "calls[checkout → email].outcomes.ok");
    let analytics = values("sync", "calls[checkout → analytics].calls");
    let email = values("sync", "calls[checkout → email].calls");
    for r in 0..REPS {
        assert!(
            (analytics[r] - email_ok[r]).abs() <= 20.0,
            "{} vs {}",
            analytics[r],
            email_ok[r]
        );
        assert!(email[r] - analytics[r] > 2_500.0, "{email:?} {analytics:?}");
    }
}

/// The README shows the command of the header and its table: what the command prints today.
#[test]
fn readme_comparison_table_is_current() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("```text\nmicrosim · compare · comparison")
        .expect("the README shows the comparison of comparison.ron")
        + "```text\n".len();
    let len = readme[start..].find("```").expect("the block is closed");
    let shown = &readme[start..start + len];
    let actual = microsim::render::experiment::render_comparison(experiment());
    // Line by line without trailing blanks (the table pads its last column; editors strip
    // the padding from Markdown).
    let lines = |t: &str| -> Vec<String> {
        t.trim_end()
            .lines()
            .map(|l| l.trim_end().to_string())
            .collect()
    };
    assert_eq!(
        lines(shown),
        lines(&actual),
        "README.md's comparison table is stale: replace it with the output of \
         `cargo run --release -- compare topologies/comparison.ron --reps 10`"
    );
}

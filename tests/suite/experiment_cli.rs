//! The experiment commands as a user runs them: `run --reps`, `compare`, `sweep`, `--shard`
//! and `merge`, their tables, files and mistakes. `--out DIR` writes the result, its CSV,
//! every experiment chart and the page, all drawn from the result alone: the files are
//! those the library draws from `DIR/result.json`, and a merge of shards writes the same
//! directory, byte for byte, as the unsharded run.

use microsim::chart::experiment::render_experiment_charts;
use microsim::experiment::ExperimentResult;
use microsim::render::render_experiment_html;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn microsim(args: &[&str]) -> Output {
    microsim_env(args, &[])
}

fn microsim_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_microsim"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the microsim binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    out
}

#[track_caller]
fn error(o: &Output) -> String {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(2), "stdout:\n{out}\nstderr:\n{err}");
    err
}

/// A fresh, empty directory `target/tmp/experiment-cli/<name>`.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch("experiment-cli", name)
}

#[track_caller]
fn narrow(out: &str) {
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
}

/// Every file of `dir` (not recursing) by name, with its bytes.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// Checks what `--out DIR` wrote: result.json, results.csv, one SVG per chart the library
/// draws from that result.json (byte for byte), index.html as the library draws it from the
/// result and those charts, and nothing else; the line printed says so. Returns the result
/// and the page.
#[track_caller]
fn assert_experiment_dir(dir: &Path, printed: &str) -> (ExperimentResult, String) {
    let json = std::fs::read_to_string(dir.join("result.json")).expect("result.json");
    let result = ExperimentResult::from_json(&json).expect("an experiment result");
    let charts = render_experiment_charts(&result);
    assert!(!charts.is_empty(), "no chart for {}", dir.display());
    let files = files_of(dir);
    let mut expected: Vec<String> = ["result.json", "results.csv", "index.html"]
        .iter()
        .map(|s| s.to_string())
        .chain(charts.iter().map(|c| c.file.clone()))
        .collect();
    expected.sort();
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        expected,
        "the files of {}",
        dir.display()
    );
    for c in &charts {
        assert!(
            files[&c.file] == c.svg.as_bytes(),
            "{} differs from the chart drawn from result.json",
            c.file
        );
    }
    let page = String::from_utf8(files["index.html"].clone()).expect("UTF-8");
    assert!(
        page == render_experiment_html(&result, &charts),
        "index.html differs from the page drawn from result.json"
    );
    let said = format!(
        "wrote to {}:\n  index.html (the page), result.json, results.csv and {} chart{} (*.svg)\n",
        dir.display(),
        charts.len(),
        if charts.len() == 1 { "" } else { "s" },
    );
    assert!(printed.contains(&said), "no {said:?} in:\n{printed}");
    // Self-contained: every chart inline, nothing fetched from anywhere.
    assert_eq!(
        page.matches("src=\"data:image/svg+xml;base64,").count(),
        charts.len(),
        "every chart embedded once"
    );
    for outside in ["http://", "https://", "src=\"/", "href=\"/", "url("] {
        assert!(!page.contains(outside), "the page refers to {outside}…");
    }
    (result, page)
}

/// The ids of the page's sections (`<h2 id="…">`), in order.
fn sections(page: &str) -> Vec<&str> {
    page.match_indices("<h2 id=\"")
        .map(|(at, m)| {
            let rest = &page[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[test]
fn run_with_replications_prints_intervals() {
    let out = ok(&microsim(&[
        "run",
        "topologies/mm1.ron",
        "--reps",
        "4",
        "--duration",
        "20s",
    ]));
    narrow(&out);
    assert!(out.contains("4 replications"), "{out}");
    assert!(out.contains("mean ± 95 % CI over replications"), "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("clients"))
        .unwrap();
    assert!(line.contains(" ± "), "{line}");
}

#[test]
fn compare_two_files_gives_verdicts() {
    let out = ok(&microsim(&[
        "compare",
        "topologies/no-breaker.ron",
        "topologies/breaker.ron",
        "--reps",
        "3",
        "--duration",
        "8m",
    ]));
    narrow(&out);
    assert!(out.contains("breaker vs no-breaker"), "{out}");
    assert!(
        out.contains("→ breaker's shoppers availability is higher by"),
        "{out}"
    );
}

#[test]
fn compare_needs_variants_or_two_files() {
    let err = error(&microsim(&["compare", "topologies/mm1.ron", "--reps", "2"]));
    assert!(err.contains("declares no variants"), "{err}");
    let err = error(&microsim(&[
        "compare",
        "topologies/mm1.ron",
        "--variants",
        "base,nope",
        "--reps",
        "2",
    ]));
    assert!(err.contains("no variant `nope`"), "{err}");
}

/// One command compares the variants a file declares: `base` (the file as written) and
/// every variant, or the variants alone when one of them has no edits and so names the file
/// as written (comparison.ron's `"sync": {}`); `--variants` picks and orders them.
#[test]
fn compare_takes_the_variants_a_file_declares() {
    let short = ["--reps", "2", "--duration", "100s", "--warmup", "10s"];
    let out = ok(&microsim(
        &[&["compare", "topologies/comparison.ron"][..], &short].concat(),
    ));
    narrow(&out);
    assert!(
        out.contains("arms: sync, async, hybrid; each against sync"),
        "{out}"
    );
    assert!(
        out.contains("async vs sync") && out.contains("hybrid vs sync"),
        "{out}"
    );
    assert!(!out.contains("base"), "{out}");
    // Without the edit-less variant, `base` is the file as written and the baseline.
    let dir = scratch("variants");
    let file = dir.join("two-variants.ron");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/comparison.ron"),
    )
    .unwrap();
    assert!(text.contains("\"sync\": {},"));
    std::fs::write(&file, text.replace("\"sync\": {},", "")).unwrap();
    let out = ok(&microsim(
        &[&["compare", file.to_str().unwrap()][..], &short].concat(),
    ));
    assert!(
        out.contains("arms: base, async, hybrid; each against base"),
        "{out}"
    );
    // --variants picks and orders, `base` included when asked for.
    let out = ok(&microsim(
        &[
            &[
                "compare",
                "topologies/comparison.ron",
                "--variants",
                "hybrid,base",
            ][..],
            &short,
        ]
        .concat(),
    ));
    assert!(
        out.contains("arms: hybrid, base; each against hybrid"),
        "{out}"
    );
    // One variant alone, as the file's header suggests: its consumer groups' lag and drain.
    let out = ok(&microsim(
        &[
            &["run", "topologies/comparison.ron", "--variants", "async"][..],
            &short,
        ]
        .concat(),
    ));
    let email = out
        .lines()
        .find(|l| l.trim_start().starts_with("orders / email"))
        .unwrap_or_else(|| panic!("no e-mail group in:\n{out}"));
    let max_lag: f64 = email.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!((2_500.0..3_500.0).contains(&max_lag), "{email}");
}

#[test]
fn sweep_marks_the_knee_and_writes_its_files() {
    let dir = scratch("sweep");
    let out = ok(&microsim(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "workload[clients].arrivals.per_second=600..900:100",
        "--target",
        "p99<=30ms",
        "--reps",
        "3",
        "--duration",
        "30s",
        "--out",
        dir.to_str().unwrap(),
    ]));
    narrow(&out);
    assert!(
        out.contains("p99<=30ms holds up to 800, breaks at 900"),
        "{out}"
    );
    let json = std::fs::read_to_string(dir.join("result.json")).unwrap();
    let result = microsim::experiment::ExperimentResult::from_json(&json).unwrap();
    assert_eq!(result.cells.len(), 4);
    let csv = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(csv.starts_with(
        "arm,workload[clients].arrivals.per_second,metric,n,mean,sd,ci_low,ci_high\n"
    ));
    assert!(
        csv.contains("base,900,entries[clients].availability,3,"),
        "{csv}"
    );
    let (_, page) = assert_experiment_dir(&dir, &out);
    assert_eq!(sections(&page), ["results", "knees", "charts", "metrics"]);
    assert!(page.contains("<h1>microsim · sweep · mm1</h1>"), "{page}");
}

/// Runs `args` whole with `--out DIR`, then as `shards` shards (each a separate process,
/// its index from the scheduler's environment as in a Slurm array job) merged in reverse
/// order with `merge … --out DIR`: both directories must hold the same files, byte for
/// byte (result.json, results.csv, every chart and index.html), and both commands must say
/// what they wrote. Returns the shard files and the scratch directory.
#[track_caller]
fn assert_merge_writes_the_unsharded_dir(
    name: &str,
    args: &[&str],
    shards: usize,
) -> (Vec<PathBuf>, PathBuf) {
    let dir = scratch(name);
    let with = |extra: &[&str]| {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: &[String], env: &[(&str, &str)]| {
        ok(&microsim_env(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            env,
        ))
    };
    let whole = dir.join("whole");
    let printed = run(&with(&["--quiet", "--out", whole.to_str().unwrap()]), &[]);
    assert_experiment_dir(&whole, &printed);
    let mut files = Vec::new();
    let count = shards.to_string();
    for i in 0..shards {
        let f = dir.join(format!("shard{i}.json"));
        let out = run(
            &with(&["--quiet", "--shard", &count, "--out", f.to_str().unwrap()]),
            &[("SLURM_ARRAY_TASK_ID", &i.to_string())],
        );
        assert!(out.contains(&format!("wrote shard {i}/{shards}")), "{out}");
        files.push(f);
    }
    let merged = dir.join("merged");
    let mut m = vec!["merge".to_string()];
    m.extend(files.iter().rev().map(|f| f.display().to_string()));
    m.extend(["--out".to_string(), merged.display().to_string()]);
    let printed = run(&m, &[]);
    assert_experiment_dir(&merged, &printed);
    let (a, b) = (files_of(&whole), files_of(&merged));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "merge wrote other files than the unsharded run"
    );
    for (file, bytes) in &a {
        assert!(
            *bytes == b[file],
            "{name}: merged {file} differs from the unsharded one"
        );
    }
    (files, dir)
}

/// Three shards of a sweep run as separate processes, merged: the same directory as one
/// process wrote.
#[test]
fn shards_merge_to_the_unsharded_result_byte_for_byte() {
    let (files, dir) = assert_merge_writes_the_unsharded_dir(
        "shards",
        &[
            "sweep",
            "topologies/mm1.ron",
            "--vary",
            "workload[clients].arrivals.per_second=100,150",
            "--reps",
            "3",
            "--duration",
            "10s",
            "--warmup",
            "1s",
        ],
        3,
    );
    // A missing shard is refused, naming it.
    let err = error(&microsim(&[
        "merge",
        files[0].to_str().unwrap(),
        "--out",
        dir.join("bad").to_str().unwrap(),
    ]));
    assert!(err.contains("shard 1/3 is missing"), "{err}");
}

/// Shards of replications (one arm) and of a comparison merge to the unsharded directory
/// too: `merge` tells the kind of experiment from the result, so its page is the same.
#[test]
fn shards_of_replications_and_comparisons_merge_to_the_same_page() {
    assert_merge_writes_the_unsharded_dir(
        "shards-reps",
        &[
            "run",
            "topologies/mm1.ron",
            "--reps",
            "3",
            "--duration",
            "10s",
            "--warmup",
            "1s",
        ],
        2,
    );
    assert_merge_writes_the_unsharded_dir(
        "shards-compare",
        &[
            "compare",
            "topologies/no-breaker.ron",
            "topologies/breaker.ron",
            "--reps",
            "2",
            "--duration",
            "4m",
        ],
        3,
    );
}

/// `run --reps --out DIR`: one arm, nothing to compare. The page has results and charts
/// (latency CDF and availability over time) and no comparison, recovery or knee; no chart
/// compares arms or sweeps.
#[test]
fn replications_write_a_page_of_one_arm() {
    let dir = scratch("reps-out");
    let out = ok(&microsim(&[
        "run",
        "topologies/mm1.ron",
        "--reps",
        "3",
        "--duration",
        "20s",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let (result, page) = assert_experiment_dir(&dir, &out);
    assert_eq!(result.cells.len(), 1);
    assert_eq!(sections(&page), ["results", "charts", "metrics"]);
    assert!(
        page.contains("<h1>microsim · replications · mm1</h1>"),
        "{page}"
    );
    assert!(page.contains("3 replications per run"), "{page}");
    assert!(!page.contains("paired"), "nothing is compared: {page}");
    let names: Vec<String> = files_of(&dir).into_keys().collect();
    assert!(
        names.contains(&"cdf-clients.svg".to_string())
            && names.contains(&"timeline-clients.svg".to_string()),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|f| f.starts_with("compare-") || f.starts_with("sweep-")),
        "{names:?}"
    );
    // One arm: the CDF's title does not speak of arms.
    let cdf = String::from_utf8(files_of(&dir)["cdf-clients.svg"].clone()).unwrap();
    assert!(cdf.contains("clients: latency distribution (CDF), replications pooled"));
}

/// `compare --out DIR`: bars per headline metric, the arms' CDFs and timelines, and the page
/// with the comparison's verdicts as the terminal prints them, and recovery (the breaker
/// topologies have a fault).
#[test]
fn compare_writes_bars_and_verdicts() {
    let dir = scratch("compare-out");
    let out = ok(&microsim(&[
        "compare",
        "topologies/no-breaker.ron",
        "topologies/breaker.ron",
        "--reps",
        "3",
        "--duration",
        "8m",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let (_, page) = assert_experiment_dir(&dir, &out);
    assert_eq!(
        sections(&page),
        ["results", "recovery", "comparisons", "charts", "metrics"]
    );
    assert!(
        page.contains("breaker&#39;s shoppers availability is higher by"),
        "{page}"
    );
    let names: Vec<String> = files_of(&dir).into_keys().collect();
    for f in [
        "compare-shoppers-availability.svg",
        "compare-shoppers-p99-ms.svg",
        "cdf-shoppers.svg",
        "timeline-shoppers.svg",
    ] {
        assert!(names.contains(&f.to_string()), "no {f} in {names:?}");
    }
}

/// A sweep of two axes: the metric charts draw one line per value of the second axis, and
/// the page lists both axes and the knee of each line.
#[test]
fn two_axis_sweeps_write_a_line_per_value_of_the_second() {
    let dir = scratch("sweep2-out");
    let out = ok(&microsim(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "workload[clients].arrivals.per_second=600..900:150",
        "--vary",
        "services[server].workers=1,2",
        "--target",
        "p99<=30ms",
        "--reps",
        "2",
        "--duration",
        "20s",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let (result, page) = assert_experiment_dir(&dir, &out);
    assert_eq!(result.cells.len(), 6);
    assert_eq!(sections(&page), ["results", "knees", "charts", "metrics"]);
    assert!(page.contains("Swept: <code>workload[clients].arrivals.per_second</code>"));
    assert!(page.contains("Swept: <code>services[server].workers</code> = 1, 2"));
    let p99 = String::from_utf8(files_of(&dir)["sweep-clients-p99-ms.svg"].clone()).unwrap();
    for label in ["workers=1", "workers=2", "target p99&lt;=30ms"] {
        assert!(p99.contains(label), "no {label} in the p99 chart");
    }
}

#[test]
fn mistakes_are_named() {
    let err = error(&microsim(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "x=1..5",
    ]));
    assert!(
        err.contains("--vary") && err.contains("needs a step"),
        "{err}"
    );
    let err = error(&microsim(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "workload[clients].arrivals.per_second=1,2",
        "--target",
        "fast",
    ]));
    assert!(
        err.contains("--target") && err.contains("METRIC>=VALUE"),
        "{err}"
    );
    let err = error(&microsim(&[
        "run",
        "topologies/mm1.ron",
        "--reps",
        "2",
        "--shard",
        "2",
    ]));
    assert!(err.contains("SLURM_ARRAY_TASK_ID"), "{err}");
    let err = error(&microsim(&["run", "topologies/mm1.ron", "--shard", "0/2"]));
    assert!(err.contains("--out FILE"), "{err}");
    let err = error(&microsim(&[
        "run",
        "topologies/mm1.ron",
        "--reps",
        "2",
        "--set",
        "services[server].workrs=2",
    ]));
    assert!(err.contains("did you mean `workers`?"), "{err}");
    let err = error(&microsim(&[
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "services[nope].workers=1,2",
    ]));
    assert!(err.contains("no `nope` here"), "{err}");
}

/// A single run (no `--reps`) applies `--set` like an experiment does, with the same checks,
/// and refuses the experiment flags it has no use for instead of ignoring them.
#[test]
fn a_single_run_applies_set_and_refuses_experiment_flags() {
    // Two workers instead of one at λ = 800/s, μ = 1000/s: M/M/2 at ρ = 0.4 waits far less
    // than M/M/1 at ρ = 0.8 (mean sojourn 1.19 ms against 5 ms), so the edit is visible.
    let base = microsim(&["run", "topologies/mm1.ron", "--json", "--duration", "30s"]);
    let two = microsim(&[
        "run",
        "topologies/mm1.ron",
        "--json",
        "--duration",
        "30s",
        "--set",
        "services[server].workers=2",
    ]);
    let mean = |o: &Output| {
        let v: serde_json::Value = serde_json::from_str(&ok(o)).unwrap();
        v["entries"][0]["latency"]["mean_ms"].as_f64().unwrap()
    };
    let (w1, w2) = (mean(&base), mean(&two));
    assert!(w1 > 3.5 && w2 < 1.6, "M/M/1 {w1} ms, M/M/2 {w2} ms");
    let err = error(&microsim(&[
        "run",
        "topologies/mm1.ron",
        "--set",
        "services[nope].workers=3",
    ]));
    assert!(err.contains("services[nope].workers"), "{err}");
    for flag in [
        ["--threads", "2"],
        ["--csv", "x.csv"],
        ["--recovery-threshold", "0.9"],
        ["--recovery-from", "1m"],
    ] {
        let err = error(&microsim(&["run", "topologies/mm1.ron", flag[0], flag[1]]));
        assert!(
            err.contains(flag[0]) && err.contains("add --reps N"),
            "{err}"
        );
    }
}

/// `--set` changes a single run too (it was dropped without a word when `--reps` was not
/// given), and the options that only mean something with replications are refused there.
#[test]
fn a_single_run_takes_set_and_refuses_experiment_only_options() {
    let base = ["run", "topologies/mm1.ron", "--duration", "30s", "--json"];
    let offered = |out: &str| -> u64 {
        let report = microsim::Report::from_json(out).unwrap();
        report.entries[0].offered
    };
    let plain = offered(&ok(&microsim(&base)));
    let slow = offered(&ok(&microsim(
        &[
            &base[..],
            &["--set", "workload[clients].arrivals.per_second=10"],
        ]
        .concat(),
    )));
    // 800/s and 10/s for the 20 s after the warm-up: about 16,000 and 200 requests.
    assert!(plain > 15_000, "{plain}");
    assert!((150..250).contains(&slow), "{slow}");
    let err = error(&microsim(
        &[
            &base[..],
            &["--set", "workload[clients].arrivals.per_secnd=10"],
        ]
        .concat(),
    ));
    assert!(err.contains("did you mean `per_second`?"), "{err}");
    for flag in [
        &["--csv", "x.csv"][..],
        &["--recovery-threshold", "0.9"],
        &["--recovery-from", "10s"],
    ] {
        let err = error(&microsim(&[&base[..], flag].concat()));
        assert!(err.contains(flag[0]) && err.contains("--reps"), "{err}");
    }
}

//! The command line, run as a user would: the built `microsim` binary, its output and exit
//! codes (0 success; 2 invalid input or a failed run).

use microsim::Report;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args` from the crate root.
fn microsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the microsim binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts the exit code, showing the output when it is wrong.
#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

/// A fresh, empty directory `target/tmp/cli/<name>`.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch("cli", name)
}

/// A short run of the M/M/1 topology as JSON.
fn json_run(seed: &str) -> (String, Report) {
    let o = microsim(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "20s",
        "--seed",
        seed,
        "--json",
    ]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    let report: Report = serde_json::from_str(&text).expect("--json prints a Report");
    (text, report)
}

#[test]
fn run_prints_the_summary() {
    let o = microsim(&["run", "topologies/mm1.ron", "--duration", "20s"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("clients"), "no entry name in:\n{out}");
    assert!(out.contains("server"), "no service name in:\n{out}");
    assert!(out.contains("avail"), "no availability in:\n{out}");
    // The wall time changes from run to run: it goes to standard error, alone.
    assert!(!out.contains("wall time"), "wall time on stdout:\n{out}");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("events in") && err.contains("wall time"),
        "{err}"
    );
}

#[test]
fn two_runs_with_the_same_seed_print_the_same_bytes() {
    let args = ["run", "topologies/checkout.ron", "--duration", "30s"];
    let (a, b) = (microsim(&args), microsim(&args));
    assert_exit(&a, 0);
    assert_exit(&b, 0);
    assert!(!a.stdout.is_empty());
    assert_eq!(
        a.stdout, b.stdout,
        "stdout differs between two identical runs"
    );
}

#[test]
fn wide_prints_one_line_per_row_and_the_rows_of_zeros() {
    let args = ["run", "tests/data/side-by-side.ron", "--duration", "30s"];
    let narrow = stdout(&microsim(&args));
    let o = microsim(&[&args[..], &["--wide"]].concat());
    assert_exit(&o, 0);
    let wide = stdout(&o);
    // By default every line fits 100 columns and the queue rows of zeros are counted, not
    // shown; --wide has the entry table on one line per entry and every queue row.
    assert!(narrow.lines().all(|l| l.chars().count() <= 100), "{narrow}");
    assert!(narrow.contains("rows of zeros left out"), "{narrow}");
    assert!(!narrow.contains("s-checkout queue"), "{narrow}");
    assert!(wide.contains("s-checkout queue (mean)"), "{wide}");
    assert!(!wide.contains("left out"), "{wide}");
    let sync = wide
        .lines()
        .find(|l| l.trim_start().starts_with("sync "))
        .expect("a row for the sync entry point");
    assert!(sync.contains("100.000") && sync.ends_with(|c: char| c.is_ascii_digit()));
    assert!(wide.lines().any(|l| l.chars().count() > 100), "{wide}");
    let header = wide
        .lines()
        .find(|l| l.trim_start().starts_with("entry "))
        .unwrap();
    assert!(
        header.contains("p99 ms") && header.contains("in-flight"),
        "{header}"
    );
}

#[test]
fn run_json_parses_and_seed_changes_it() {
    let (_, a) = json_run("11");
    let (_, b) = json_run("12");
    assert_eq!(a.seed, 11);
    assert_eq!(b.seed, 12);
    assert_eq!(a.topology, "mm1");
    assert_eq!(a.duration_s, 20.0);
    assert!(a.entry("clients").unwrap().offered > 0);
    // A different seed draws different arrivals.
    assert_ne!(a.entries, b.entries);
}

#[test]
fn run_without_seed_uses_the_files() {
    let o = microsim(&["run", "topologies/mm1.ron", "--duration", "20s", "--json"]);
    assert_exit(&o, 0);
    let report: Report = serde_json::from_str(&stdout(&o)).unwrap();
    // topologies/mm1.ron: run: (..., seed: 1)
    assert_eq!(report.seed, 1);
}

#[test]
fn out_writes_the_same_report_as_json() {
    let dir = scratch("out");
    let target = dir.join("nested").join("run1");
    let o = microsim(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "20s",
        "--seed",
        "5",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    // Without --json the summary still goes to stdout.
    assert!(stdout(&o).contains("avail"), "{}", stdout(&o));
    let written = std::fs::read_to_string(target.join("report.json")).expect("report.json");
    let (printed, report) = json_run("5");
    assert_eq!(written.trim_end(), printed.trim_end());
    assert_eq!(Report::from_json(&written).unwrap(), report);
}

#[test]
fn check_accepts_every_bundled_topology() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let o = microsim(&["check", f.to_str().unwrap()]);
        assert_exit(&o, 0);
        let out = stdout(&o);
        assert!(out.contains("valid"), "{}:\n{out}", f.display());
    }
}

/// A topology with three mistakes on lines 2, 8 and 9.
const THREE_MISTAKES: &str = r#"Topology(
    run: (duration: "10", seed: 3),
    workload: [
        (name: "main", entry: "api", arrivals: Poisson(per_second: 10)),
    ],
    services: {
        "api": (
            workers: 0,
            steps: [Call(to: "paymnet", timeout: "1s")],
        ),
        "payment": (work: Exp(mean: "2ms")),
    },
)
"#;

#[test]
fn check_lists_every_problem_and_exits_2() {
    let dir = scratch("check-invalid");
    let file = dir.join("bad.ron");
    std::fs::write(&file, THREE_MISTAKES).unwrap();
    let path = file.to_str().unwrap();
    let o = microsim(&["check", path]);
    assert_exit(&o, 2);
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: {path}: 3 problems found:\n")),
        "{err}"
    );
    for line in [
        format!("  - {path}:2: run.duration: `10` has no unit"),
        format!("  - {path}:8: services[api].workers: workers must be at least 1"),
        format!("  - {path}:9: services[api].steps[0].to: unknown service `paymnet`; did you mean `payment`?"),
    ] {
        assert!(err.contains(&line), "lacks `{line}`:\n{err}");
    }
    // `run` refuses the file the same way.
    let o = microsim(&["run", path]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("3 problems found"), "{}", stderr(&o));
}

/// A `Choice` whose cumulative weights round past 1 before its last branch (0.1 + 0.6 + 0.2
/// of a total just above 0.9): the analytic shadow once gave that branch a share of −2⁻⁵²,
/// and `check` printed the holding time and ρ as `-0.000`.
#[test]
fn check_prints_no_negative_zero() {
    let dir = scratch("negative-zero");
    let file = dir.join("choice.ron");
    std::fs::write(
        &file,
        r#"Topology(
    workload: [(name: "e", entry: "s", arrivals: Poisson(per_second: 10))],
    services: { "s": (steps: [Choice(branches: [
        (weight: 0.1, steps: []), (weight: 0.6, steps: []), (weight: 0.2, steps: []),
        (weight: 1e-30, steps: [Work(Const("1ms"))]),
    ])]) },
)
"#,
    )
    .unwrap();
    let o = microsim(&["check", file.to_str().unwrap()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(!out.contains("-0."), "{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["s", "10.00", "0.000", "0.000", "0.000", "-"]),
        "{out}"
    );
}

/// A caller with 10,000 replicas and a breaker `window: Count(1000000)`, both within the
/// documented limits, once allocated 10¹⁰ bytes of windows before the first call and
/// aborted (SIGABRT) under a 4 GB address-space limit. The windows now grow as calls arrive:
/// the run completes under the limit, and `check` warns about the worst case.
#[test]
#[cfg(target_os = "linux")]
fn huge_breaker_windows_run_under_a_memory_limit() {
    let dir = scratch("huge-breaker");
    let file = dir.join("breaker.ron");
    std::fs::write(
        &file,
        r#"Topology(
    run: (duration: "2s"),
    workload: [(name: "e", entry: "a", arrivals: Constant(per_second: 1000))],
    services: {
        "a": (replicas: 10000, steps: [Call(to: "b", breaker: (window: Count(1000000)))]),
        "b": (workers: 4, work: Const("1ms")),
    },
)
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let o = Command::new("sh")
        .args(["-c", r#"ulimit -v 4000000 && exec "$0" "$@""#])
        .arg(env!("CARGO_BIN_EXE_microsim"))
        .args(["run", path, "--json"])
        .output()
        .expect("sh runs");
    assert_exit(&o, 0);
    let report: Report = serde_json::from_str(&stdout(&o)).unwrap();
    // Every request succeeds but the last one, still in flight at the end.
    let e = &report.entries[0];
    assert_eq!((e.offered, e.outcomes.ok, e.in_flight), (1999, 1998, 1));
    let o = microsim(&["check", path]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains(
            "warning [breaker-memory] services[a].steps[0].breaker.window: 10000 caller replicas \
             each keep a breaker whose windows hold up to 1.0 MB once full: 10.0 GB in all"
        ),
        "{out}"
    );
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let dir = scratch("syntax");
    let file = dir.join("broken.ron");
    std::fs::write(
        &file,
        "Topology(\n    services: {\n        \"api\": (workers: 2 queue: 4),\n    },\n)\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let o = microsim(&["check", path]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.starts_with(&format!("error: {path}:3:28: ")), "{err}");
    assert!(err.to_lowercase().contains("comma"), "{err}");
}

#[test]
fn unknown_fields_are_listed_with_file_line_and_suggestion() {
    let dir = scratch("unknown-fields");
    let file = dir.join("typos.ron");
    std::fs::write(
        &file,
        "Topology(\n    workload: [(name: \"m\", entry: \"api\", arrivals: Poisson(per_second: 1))],\n    services: {\n        \"api\": (wrkers: 2, replica: 3),\n    },\n    colour: \"red\",\n)\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let o = microsim(&["check", path]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: {path}: 3 problems found:\n")),
        "{err}"
    );
    for line in [
        format!("  - {path}:4: services[api].wrkers: unknown field `wrkers`; did you mean `workers`?"),
        format!("  - {path}:4: services[api].replica: unknown field `replica`; did you mean `replicas`?"),
        format!("  - {path}:6: colour: unknown field `colour`; the fields here are `name`, `run`"),
    ] {
        assert!(err.contains(&line), "lacks `{line}`:\n{err}");
    }
}

#[test]
fn invalid_utf8_is_named_at_its_line_and_column() {
    let dir = scratch("utf8");
    let file = dir.join("latin1.ron");
    // "café" saved as Latin-1: é is the single byte 0xe9.
    std::fs::write(&file, b"Topology(\n    services: {\"caf\xe9\": ()},\n)\n").unwrap();
    let path = file.to_str().unwrap();
    let o = microsim(&["check", path]);
    assert_exit(&o, 2);
    assert_eq!(
        stderr(&o),
        format!("error: {path}:2:20: invalid UTF-8 (byte 0xe9); topology files are UTF-8 text: save the file as UTF-8\n")
    );
}

#[test]
fn missing_file_exits_2_with_a_clear_message() {
    for cmd in ["check", "run"] {
        let o = microsim(&[cmd, "topologies/no-such-file.ron"]);
        assert_exit(&o, 2);
        let err = stderr(&o);
        assert!(
            err.starts_with("error: cannot read topologies/no-such-file.ron: "),
            "{err}"
        );
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn bad_duration_flag_exits_2() {
    let o = microsim(&["run", "topologies/mm1.ron", "--duration", "abc"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("--duration"), "{err}");
    assert!(err.contains("`abc` is not a duration"), "{err}");
    let o = microsim(&["run", "topologies/mm1.ron", "--duration", "20"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("`20` has no unit"), "{}", stderr(&o));
}

#[test]
fn bad_warmup_flag_exits_2() {
    let o = microsim(&["run", "topologies/mm1.ron", "--warmup=-1s"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("--warmup"), "{err}");
    assert!(err.contains("`-1s` is not a duration"), "{err}");
}

#[test]
fn warmup_longer_than_the_run_exits_2() {
    // mm1.ron has a 10 s warm-up.
    let o = microsim(&["run", "topologies/mm1.ron", "--duration", "5s"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("invalid run option"), "{err}");
    assert!(err.contains("warm-up (10s)"), "{err}");
}

#[test]
fn in_flight_cap_exits_2_naming_the_service() {
    let dir = scratch("cap");
    let file = dir.join("overload.ron");
    std::fs::write(
        &file,
        r#"Topology(
    run: (duration: "1h", max_in_flight: 500),
    workload: [(name: "main", entry: "server", arrivals: Poisson(per_second: 2000))],
    services: { "server": (workers: 1, work: Exp(mean: "1ms")) },
)"#,
    )
    .unwrap();
    let o = microsim(&["run", file.to_str().unwrap()]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("run.max_in_flight = 500"), "{err}");
    assert!(err.contains("service `server`"), "{err}");
}

#[test]
fn zeno_guard_exits_2_naming_the_queue() {
    let dir = scratch("zeno");
    let file = dir.join("poison.ron");
    std::fs::write(
        &file,
        r#"Topology(
    run: (max_events_per_instant: 10000),
    workload: [(name: "main", send: "jobs", arrivals: Constant(per_second: 10))],
    services: { "worker": (errors: 1.0) },
    queues: { "jobs": (service: "worker") },
)"#,
    )
    .unwrap();
    let o = microsim(&["run", file.to_str().unwrap()]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("run.max_events_per_instant = 10000"), "{err}");
    assert!(err.contains("work queue `jobs`"), "{err}");
    assert!(err.contains("retry_delay"), "{err}");
}

#[test]
fn usage_errors_are_reported_by_clap() {
    // No subcommand, an unknown flag, a seed that is not a number: clap's usage errors.
    for (args, says) in [
        (&[][..], "Usage"),
        (
            &["run", "topologies/mm1.ron", "--speed", "2"][..],
            "--speed",
        ),
        (&["run", "topologies/mm1.ron", "--seed=-1"][..], "--seed"),
        (&["run", "topologies/mm1.ron", "--seed", "x"][..], "--seed"),
    ] {
        let o = microsim(args);
        assert_exit(&o, 2);
        let err = stderr(&o);
        assert!(err.starts_with("error: ") || err.contains("Usage"), "{err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The files of `dir` (names and contents), sorted by name, without `skip`.
fn files(dir: &Path, skip: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .filter(|(name, _)| !skip.contains(&name.as_str()))
        .collect();
    out.sort();
    out
}

/// `run topologies/cascade.ron --duration 3m --out DIR` (seed from the file).
fn run_out(dir: &Path) -> Output {
    microsim(&[
        "run",
        "topologies/cascade.ron",
        "--duration",
        "3m",
        "--out",
        dir.to_str().unwrap(),
    ])
}

#[test]
fn run_out_writes_the_report_the_html_page_and_every_chart() {
    let dir = scratch("out-html").join("report");
    let o = run_out(&dir);
    assert_exit(&o, 0);
    let report =
        Report::from_json(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let charts = microsim::chart::render_all(&report);
    for c in &charts {
        let written = std::fs::read_to_string(dir.join(&c.file))
            .unwrap_or_else(|e| panic!("chart {}: {e}", c.file));
        assert_eq!(written, c.svg, "{}", c.file);
    }
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert_eq!(html, microsim::render::render_html(&report, &charts));
    // Nothing else: report.json, index.html and the charts.
    let names: Vec<String> = files(&dir, &[]).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), charts.len() + 2, "{names:?}");
    // One line says where it went, after the summary.
    let out = stdout(&o);
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "wrote report.json, index.html and {} chart{} to {}",
            charts.len(),
            if charts.len() == 1 { "" } else { "s" },
            dir.display()
        )
    );
    // Standard error has the wall time alone.
    let err = stderr(&o);
    assert!(
        err.lines().count() == 1 && err.contains("wall time"),
        "{err}"
    );
}

#[test]
fn run_json_with_out_keeps_stdout_pure_json() {
    let dir = scratch("out-json").join("report");
    let o = microsim(&[
        "run",
        "topologies/mm1.ron",
        "--duration",
        "20s",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    let printed = Report::from_json(&stdout(&o)).expect("stdout is the report alone");
    let written = std::fs::read_to_string(dir.join("report.json")).unwrap();
    assert_eq!(Report::from_json(&written).unwrap(), printed);
    // The note on where the files went goes to stderr instead.
    assert!(
        stderr(&o).starts_with("wrote report.json, index.html"),
        "{}",
        stderr(&o)
    );
    assert!(dir.join("index.html").is_file());
}

#[test]
fn chart_redraws_the_same_files_from_a_saved_report() {
    let base = scratch("chart-again");
    let (first, second) = (base.join("run"), base.join("nested").join("again"));
    assert_exit(&run_out(&first), 0);
    let o = microsim(&[
        "chart",
        first.join("report.json").to_str().unwrap(),
        "--out",
        second.to_str().unwrap(),
    ]);
    assert_exit(&o, 0);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let n = files(&first, &["report.json", "index.html"]).len();
    assert_eq!(
        stdout(&o),
        format!(
            "wrote index.html and {n} chart{} to {}\n",
            if n == 1 { "" } else { "s" },
            second.display()
        )
    );
    // Byte for byte the charts and the page of the run; no report.json of its own.
    let (a, b) = (files(&first, &["report.json"]), files(&second, &[]));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between run --out and chart");
    }
}

/// Reports holding numbers that are not finite: the holding time of a caller of a saturated
/// service without a timeout, the capacity of a work queue whose service takes no time.
/// `report.json` once held `null` for them and `chart` refused it (`invalid type: null,
/// expected f64`); it now holds `"inf"`, and `chart` redraws the same files.
#[test]
fn chart_reads_back_reports_with_infinite_numbers() {
    let cases = [
        (
            "saturated",
            r#"Topology(
    run: (duration: "2s"),
    workload: [(name: "e", entry: "a", arrivals: Poisson(per_second: 200))],
    services: {
        "a": (workers: 1000, steps: [Call(to: "b")]),
        "b": (workers: 1, work: Exp(mean: "10ms")),
    },
)
"#,
            r#""mean_holding_ms": "inf""#,
        ),
        (
            "instant-queue",
            r#"Topology(
    run: (duration: "2s"),
    workload: [(name: "e", send: "q", arrivals: Poisson(per_second: 100))],
    services: { "s": () },
    queues: { "q": (service: "s") },
)
"#,
            r#""capacity_per_s": "inf""#,
        ),
    ];
    for (name, text, holds) in cases {
        let dir = scratch(&format!("non-finite-{name}"));
        let file = dir.join("model.ron");
        std::fs::write(&file, text).unwrap();
        let (first, second) = (dir.join("run"), dir.join("again"));
        let o = microsim(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            first.to_str().unwrap(),
        ]);
        assert_exit(&o, 0);
        let json = std::fs::read_to_string(first.join("report.json")).unwrap();
        assert!(json.contains(holds), "{name}: lacks {holds}");
        let o = microsim(&[
            "chart",
            first.join("report.json").to_str().unwrap(),
            "--out",
            second.to_str().unwrap(),
        ]);
        assert_exit(&o, 0);
        let (a, b) = (files(&first, &["report.json"]), files(&second, &[]));
        assert_eq!(a.len(), b.len(), "{name}");
        for ((n, x), (m, y)) in a.iter().zip(&b) {
            assert!(
                n == m && x == y,
                "{name}: {n} differs between run --out and chart"
            );
        }
    }
}

#[test]
fn chart_refuses_what_is_not_a_report_and_names_the_file() {
    let dir = scratch("chart-bad");
    let out = dir.join("out");
    // A real report of another schema, a report missing a field, invalid JSON, no file.
    let (_, report) = json_run("3");
    let mut value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    value["schema"] = serde_json::json!(99);
    let future = dir.join("future.json");
    std::fs::write(&future, value.to_string()).unwrap();
    value["schema"] = serde_json::json!(microsim::report::SCHEMA_VERSION);
    value.as_object_mut().unwrap().remove("entries");
    let partial = dir.join("partial.json");
    std::fs::write(&partial, value.to_string()).unwrap();
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\"schema\": 1, \"topology\": ").unwrap();
    let unrelated = dir.join("unrelated.json");
    std::fs::write(&unrelated, "[1, 2, 3]").unwrap();
    let missing = dir.join("missing.json");
    for (file, says) in [
        (
            &future,
            format!(
                "report schema 99, but this microsim reads schema {}",
                microsim::report::SCHEMA_VERSION
            ),
        ),
        (
            &partial,
            format!(
                "not a microsim report of schema {}: missing field `entries`",
                microsim::report::SCHEMA_VERSION
            ),
        ),
        (
            &broken,
            "not a microsim report: invalid JSON: EOF while parsing".to_string(),
        ),
        (
            &unrelated,
            "not a microsim report: no `schema` number".to_string(),
        ),
        (&missing, "cannot read".to_string()),
    ] {
        let path = file.to_str().unwrap();
        let o = microsim(&["chart", path, "--out", out.to_str().unwrap()]);
        assert_exit(&o, 2);
        let err = stderr(&o);
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            err.contains(path),
            "{path}: the message does not name the file: {err}"
        );
        assert!(err.contains(&says), "{path}: lacks `{says}`: {err}");
        assert!(stdout(&o).is_empty(), "{}", stdout(&o));
        assert!(!out.exists(), "nothing is written for {path}");
    }
}

#[test]
fn out_that_cannot_be_written_exits_2_naming_the_path() {
    let dir = scratch("out-blocked");
    // A file where the directory should be.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let target = blocker.join("report");
    let o = run_out(&target);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(
        err.starts_with(&format!("error: cannot create {}: ", target.display())),
        "{err}"
    );
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    // The same for `chart`.
    let first = dir.join("run");
    assert_exit(&run_out(&first), 0);
    let report = first.join("report.json");
    let o = microsim(&[
        "chart",
        report.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).starts_with(&format!("error: cannot create {}: ", target.display())),
        "{}",
        stderr(&o)
    );
}

//! Bad input: one test per error message the loader, the validator and the runner can produce.
//!
//! Each test writes a small topology that is wrong in exactly one way and checks the kind of
//! error, the problem's path, the key words of its message and, where the locator should find
//! it, the line. The expected line is the line of a snippet of the test's own text (`at`), so
//! the tests say *what* they point at rather than a bare number. At the end, a fuzz test
//! mutates a valid topology at random and checks that nothing panics.

use microsim::engine::Simulation;
use microsim::time::SimDuration;
use microsim::{LoadError, Problem, RunError, RunOptions};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers

/// 1-based line of the first occurrence of `needle` in `text`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("test bug: `{needle}` is not in the text"));
    text[..at].matches('\n').count() + 1
}

/// The validation problems of `text`, which must parse but not validate.
#[track_caller]
fn problems(text: &str) -> Vec<Problem> {
    match microsim::parse(text, "t.ron") {
        Err(LoadError::Invalid { origin, problems }) => {
            assert_eq!(origin, "t.ron");
            assert!(!problems.is_empty());
            problems
        }
        Err(e) => panic!("expected validation problems, got another error: {e}\n{text}"),
        Ok(_) => panic!("expected validation problems, the model was accepted:\n{text}"),
    }
}

/// Checks one problem: its path, the line of `at` (or no line for `None`) and the words of
/// its message.
#[track_caller]
fn assert_problem(p: &Problem, text: &str, path: &str, at: Option<&str>, words: &[&str]) {
    assert_eq!(p.path, path, "wrong path for {p:?}");
    assert_eq!(
        p.line,
        at.map(|needle| line_of(text, needle)),
        "wrong line for {p:?}"
    );
    // The words may be in the message or in the hint (what to do), shown after it.
    let text = p.text();
    for w in words {
        assert!(text.contains(w), "message of {path} lacks `{w}`: {text}");
    }
    let shown = p.to_string();
    assert!(shown.contains(path) && shown.contains(&*text), "{shown}");
    if let Some(line) = p.line {
        assert!(shown.starts_with(&format!("line {line}: ")), "{shown}");
    }
}

/// `text` must fail validation with exactly one problem, as described; returns it.
#[track_caller]
fn expect_one(text: &str, path: &str, at: Option<&str>, words: &[&str]) -> Problem {
    let ps = problems(text);
    assert_eq!(ps.len(), 1, "expected one problem, got {ps:#?}");
    assert_problem(&ps[0], text, path, at, words);
    let err = microsim::parse(text, "t.ron").unwrap_err().to_string();
    assert!(err.starts_with("t.ron: 1 problem found:\n  - "), "{err}");
    ps.into_iter().next().unwrap()
}

/// A valid topology around `services` (the body of the services map): entry point `main`
/// calls `api` at 10 requests/s for 10 s.
fn with_services(services: &str) -> String {
    format!(
        r#"Topology(
    run: (duration: "10s"),
    workload: [
        (name: "main", entry: "api", arrivals: Poisson(per_second: 10)),
    ],
    services: {{
{services}
    }},
)
"#
    )
}

/// A valid topology with the given `run` settings.
fn with_run(run: &str) -> String {
    format!(
        r#"Topology(
    run: ({run}),
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {{ "api": (work: Exp(mean: "1ms")) }},
)
"#
    )
}

/// A valid topology with the given workload entries.
fn with_workload(workload: &str) -> String {
    format!(
        r#"Topology(
    run: (duration: "10s"),
    workload: [
{workload}
    ],
    services: {{
        "api": (workers: 4, work: Exp(mean: "1ms")),
    }},
)
"#
    )
}

/// The syntax error of `text`: line, column and message.
#[track_caller]
fn syntax(text: &str) -> (usize, usize, String) {
    match microsim::parse(text, "t.ron") {
        Err(e @ LoadError::Syntax { .. }) => {
            assert!(e.problems().is_empty());
            let shown = e.to_string();
            let LoadError::Syntax {
                origin,
                line,
                col,
                message,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(origin, "t.ron");
            assert!(
                shown.starts_with(&format!("t.ron:{line}:{col}: ")),
                "Display lacks file:line:col: {shown}"
            );
            (line, col, message)
        }
        Err(e) => panic!("expected a syntax error, got: {e}"),
        Ok(_) => panic!("expected a syntax error, the model was accepted:\n{text}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The parser: syntax, shape and integer ranges (LoadError::Syntax)

#[test]
fn syntax_error_reports_line_and_column() {
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {
        "api": (workers: 4 work: Exp(mean: "1ms")),
    },
)"#;
    let (line, col, message) = syntax(text);
    assert_eq!(line, 4);
    assert!(col > 20, "column {col}");
    assert!(message.to_lowercase().contains("comma"), "{message}");
}

#[test]
fn unclosed_topology_is_a_syntax_error() {
    let text = "Topology(\n    services: {\n        \"api\": (workers: 4),\n";
    let (line, _, message) = syntax(text);
    assert!(line >= 3, "line {line}: {message}");
}

#[test]
fn empty_file_is_a_syntax_error() {
    let (line, col, message) = syntax("");
    assert_eq!((line, col), (1, 1));
    assert!(message.contains("Topology"), "{message}");
}

#[test]
fn unknown_field_is_named_at_its_path_with_a_suggestion() {
    let text = with_services(r#"        "api": (wrkers: 4, work: Exp(mean: "1ms")),"#);
    let p = expect_one(
        &text,
        "services[api].wrkers",
        Some("wrkers"),
        &["unknown field `wrkers`; did you mean `workers`?"],
    );
    // The message speaks of the file, not of the Rust types behind it.
    assert!(!p.text().contains("Spec"), "{}", p.text());
    // With nothing close, every valid field is listed.
    let text = with_services(r#"        "api": (colour: "red", work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].colour",
        Some("colour"),
        &["unknown field `colour`; the fields here are `replicas`, `workers`, `queue`"],
    );
}

#[test]
fn unknown_variant_is_named_with_the_valid_ones() {
    let text = with_services(r#"        "api": (work: Expo(mean: "1ms")),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "Expo"));
    assert_eq!(
        message,
        "services[api].work: unknown variant `Expo`; did you mean `Exp`? (one of `Exp`, `Const`, `Uniform`, `LogNormal`, `Gamma`, `Empirical`)"
    );
    let text = with_services(r#"        "api": (balancer: Fastest),"#);
    let (_, _, message) = syntax(&text);
    assert!(
        message
            .starts_with("services[api].balancer: unknown variant `Fastest`; one of `RoundRobin`"),
        "{message}"
    );
}

#[test]
fn three_typos_are_three_problems() {
    // Reproducer: a file with three typos reported only the first (`replica`), in the words
    // of the Rust types (`ServiceSpec`).
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {
        "api": (replica: 2, work: Exp(mean: "1ms"),
            steps: [Call(to: "db", timout: "1s")]),
        "db": (work: Exp(mean: "1ms"), balancr: Random),
    },
)"#;
    let ps = problems(text);
    assert_eq!(ps.len(), 3, "{ps:#?}");
    for (p, (path, at, suggestion)) in ps.iter().zip([
        ("services[api].replica", "replica", "replicas"),
        ("services[api].steps[0].timout", "timout", "timeout"),
        ("services[db].balancr", "balancr", "balancer"),
    ]) {
        let field = path.rsplit('.').next().unwrap();
        assert_problem(
            p,
            text,
            path,
            Some(at),
            &[&format!(
                "unknown field `{field}`; did you mean `{suggestion}`?"
            )],
        );
    }
    let err = microsim::parse(text, "t.ron").unwrap_err().to_string();
    assert!(
        err.starts_with("t.ron: 3 problems found:\n  - t.ron:4: services[api].replica: "),
        "{err}"
    );
}

#[test]
fn misspelt_fields_are_checked_under_the_name_they_suggest() {
    // A misspelt field whose value fits the suggested one is read as that field: what is
    // wrong inside it is found in the same round, and so is a bad value.
    let text = r#"Topology(
    runn: (duraton: "10", seed: 1),
    workload: [(name: "main", entry: "api", arivals: Poisson(per_second: -1))],
    services: { "api": (replica: 0) },
)"#;
    let ps = problems(text);
    let shown: Vec<String> = ps
        .iter()
        .map(|p| format!("{}: {}", p.path, p.text()))
        .collect();
    assert_eq!(
        shown,
        [
            "runn: unknown field `runn`; did you mean `run`?",
            "run.duraton: unknown field `duraton`; did you mean `duration`?",
            "run.duration: `10` has no unit; write it with one, e.g. \"10ms\" or \"10s\" (units: ns, us, ms, s, m, h, d)",
            "workload[main].arivals: unknown field `arivals`; did you mean `arrivals`?",
            "workload[main].arrivals.per_second: a rate must be a finite number ≥ 0 [requests/s], not -1",
            "services[api].replica: unknown field `replica`; did you mean `replicas`?",
            "services[api].replicas: replicas must be at least 1",
        ],
        "{ps:#?}"
    );
    // A value that does not fit the suggested field is left out, with nothing more said.
    let text = with_services(r#"        "api": (worker: "four", work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].worker",
        Some("worker"),
        &["unknown field `worker`; did you mean `workers`?"],
    );
    // Nor is a field that is already there read twice.
    let text = with_services(r#"        "api": (workers: 2, worker: 3, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].worker",
        Some("worker: 3"),
        &["did you mean `workers`?"],
    );
}

#[test]
fn unknown_raw_identifier_field_is_named_without_its_prefix() {
    // `r#name` is RON's raw identifier: the field is `name`; it is left out, not renamed.
    let text = with_services(r#"        "api": (r#wrkers: 4, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].wrkers",
        Some("r#wrkers"),
        &["unknown field `wrkers`; did you mean `workers`?"],
    );
}

#[test]
fn syntax_error_after_unknown_fields_is_listed_with_them() {
    let text = with_services(
        r#"        "api": (wrkers: 4, work: Exp(mean: "1ms")),
        "db": (workers: 2 queue: 3),"#,
    );
    let ps = problems(&text);
    assert_eq!(ps.len(), 2, "{ps:#?}");
    assert_problem(
        &ps[0],
        &text,
        "services[api].wrkers",
        Some("wrkers"),
        &["did you mean `workers`?"],
    );
    assert_problem(
        &ps[1],
        &text,
        "services[db].workers",
        Some("queue: 3"),
        &["expected comma"],
    );
}

#[test]
fn duplicate_field_is_named() {
    let text = with_services(
        r#"        "api": (workers: 2,
            workers: 3),"#,
    );
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "workers: 3"));
    assert_eq!(
        message,
        "services[api].workers: field `workers` is given twice; keep one"
    );
}

#[test]
fn invalid_utf8_is_named_at_its_line_and_column() {
    // Reproducer: a file that is not UTF-8 gave "stream did not contain valid UTF-8", with no
    // place (9,357 of the fuzzer's errors without a line).
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("errors-utf8-only");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    let origin = file.display().to_string();
    for (bytes, line, col, byte) in [
        (&b"\xff"[..], 1, 1, "0xff"),
        (b"Topology(\n  name: \"caf\xe9\",\n)", 2, 13, "0xe9"),
        // Columns count characters: `é` before the bad byte is one column.
        (b"Topology(\n\n  // \xc3\xa9t\xc3\n)", 3, 8, "0xc3"),
    ] {
        std::fs::write(&file, bytes).unwrap();
        let e = microsim::load(&file).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{origin}:{line}:{col}: invalid UTF-8 (byte {byte}); topology files are UTF-8 text: save the file as UTF-8")
        );
    }
    // A UTF-8 byte-order mark is not an error, and lines do not count it.
    std::fs::write(&file, b"\xEF\xBB\xBFTopology(\n  servces: {},\n)").unwrap();
    let e = microsim::load(&file).unwrap_err();
    let typo = e.problems().iter().find(|p| p.path == "servces").unwrap();
    assert_eq!(typo.line, Some(2), "{e}");
}

#[test]
fn missing_required_field_is_named() {
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
)"#;
    let (_, _, message) = syntax(text);
    assert_eq!(message, "missing field `services`, which has no default");
    // Inside the file, the message names the element it is missing from.
    let text = with_workload(r#"        (name: "main", entry: "api"),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, r#"(name: "main""#));
    assert_eq!(
        message,
        "workload[main]: missing field `arrivals`, which has no default"
    );
}

#[test]
fn negative_count_is_out_of_bounds() {
    let text = with_services(r#"        "api": (workers: -1, work: Exp(mean: "1ms")),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "workers: -1"));
    assert!(message.contains("out of bounds"), "{message}");
    assert!(message.contains("whole numbers ≥ 0"), "{message}");
}

#[test]
fn count_above_u32_is_out_of_bounds() {
    let text = with_services(r#"        "api": (replicas: 5000000000),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "replicas"));
    assert!(message.contains("out of bounds"), "{message}");
}

#[test]
fn negative_seed_is_out_of_bounds() {
    let (line, _, message) = syntax(&with_run("seed: -3"));
    assert_eq!(line, 2);
    assert!(message.contains("out of bounds"), "{message}");
}

#[test]
fn fractional_count_is_a_syntax_error() {
    let text = with_services(r#"        "api": (workers: 2.5),"#);
    let (line, _, _) = syntax(&text);
    assert_eq!(line, line_of(&text, "workers: 2.5"));
}

#[test]
fn number_for_a_duration_is_a_syntax_error() {
    let text = with_services(r#"        "api": (work: Exp(mean: 3)),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "mean: 3"));
    assert!(
        message.starts_with("services[api].work.mean: expected string: "),
        "{message}"
    );
    assert!(message.contains("\"150ms\", not 150"), "{message}");
}

#[test]
fn string_for_a_count_is_a_syntax_error() {
    let text = with_services(r#"        "api": (queue: "ten"),"#);
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "queue"));
    assert!(message.to_lowercase().contains("integer"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// run settings

#[test]
fn duration_without_unit() {
    let text = with_run(r#"duration: "150""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["`150`", "no unit", "\"150ms\"", "\"150s\""],
    );
}

#[test]
fn duration_with_unknown_unit() {
    let text = with_run(r#"duration: "10 parsecs""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &[
            "`10 parsecs`",
            "unknown unit `parsecs`",
            "ns, us, ms, s, m, h",
        ],
    );
}

#[test]
fn negative_duration() {
    let text = with_run(r#"duration: "-5s""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["`-5s`", "not a duration", "non-negative"],
    );
}

#[test]
fn duration_that_is_not_a_number() {
    let text = with_run(r#"duration: "NaNs""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["`NaNs`", "not a duration"],
    );
    let text = with_run(r#"duration: "1e400s""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["`1e400s`", "not a duration"],
    );
}

#[test]
fn duration_too_long() {
    let text = with_run(r#"duration: "10000000h""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["`10000000h`", "too long"],
    );
}

#[test]
fn duration_in_days_is_accepted() {
    // Reproducer: `"1000d"` was refused as an unknown unit.
    let model = microsim::parse(&with_run(r#"duration: "1000d", warmup: "1.5d""#), "t.ron")
        .expect("days are a unit");
    assert_eq!(
        model.run_config().duration,
        SimDuration::from_secs(1000 * 86_400)
    );
    assert_eq!(model.run_config().warmup, SimDuration::from_secs(129_600));
    // The messages list the units, days included.
    let text = with_run(r#"duration: "3 weeks""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["unknown unit `weeks`", "ns, us, ms, s, m, h, d"],
    );
    let text = with_run(r#"duration: "3""#);
    expect_one(
        &text,
        "run.duration",
        Some("duration"),
        &["ns, us, ms, s, m, h, d"],
    );
}

#[test]
fn duration_past_the_clock_names_its_field() {
    // 2^64 ns is about 584 years: a longer duration is refused where it is written, instead
    // of saturating or wrapping.
    let text = with_services(
        r#"        "api": (work: Exp(mean: "1ms"),
            failures: (mttf: "200000d", mttr: "1m")),"#,
    );
    expect_one(
        &text,
        "services[api].failures.mttf",
        Some("mttf"),
        &[
            "`200000d` is too long",
            "500 years",
            "\"182500d\"",
            "584 years",
        ],
    );
    let text = with_services(r#"        "api": (work: Exp(mean: "1e300d")),"#);
    expect_one(
        &text,
        "services[api].work.mean",
        Some("1e300d"),
        &["`1e300d` is too long"],
    );
}

/// Every duration of the format at the 500-year limit: the model loads, its analytic
/// shadow renders and a short run ends, with no overflow anywhere (the tests are built with
/// overflow checks, so a wrap would panic).
#[test]
fn every_duration_at_the_limit_loads_and_runs() {
    let text = r#"Topology(
    run: (duration: "182500d", warmup: "182499d", bucket: "182500d"),
    workload: [
        (name: "main", entry: "api", timeout: "182500d",
         arrivals: Poisson(per_second: 10, profile: [(at: "182500d", per_second: 5, ramp: true)])),
        (name: "pub", publish: "t", arrivals: Constant(per_second: 1)),
        (name: "snd", send: "q", arrivals: Constant(per_second: 1)),
    ],
    services: {
        "api": (work: Const("182500d"), failures: (mttf: "182500d", mttr: "182500d"),
            steps: [
                Call(to: "db", timeout: "182500d",
                     latency: Uniform(min: "182499d", max: "182500d"),
                     retry: (attempts: 3, jitter: Decorrelated,
                             backoff: Exponential(base: "182500d", max: "182500d", multiplier: 1e300)),
                     breaker: (slow_call: "182500d", open_for: "182500d", max_half_open: "182500d",
                               window: Time("1000000s")),
                     bulkhead: (max_concurrent: 1, max_wait: "182500d"),
                     on_failure: Fallback(Exp(mean: "182500d"))),
                Publish(topic: "t", latency: Gamma(mean: "182500d", cv: 100),
                        when_down: Wait(timeout: "182500d")),
                Send(queue: "q", latency: LogNormal(median: "182000d", p99: "182500d")),
                Work(Empirical(["182500d", "0ns"])),
            ]),
        "db": (work: Exp(mean: "182500d")),
        "c": (work: Exp(mean: "1ms")),
    },
    topics: { "t": (retention: "182500d", subscribers: [(service: "c", max_attempts: 3,
        session_timeout: "182500d", retry_backoff: "182500d", commit_interval: "182500d",
        idempotent: "182500d")]) },
    queues: { "q": (service: "c", visibility_timeout: "182500d", retry_delay: "182500d",
        retention: "182500d", max_receives: 3) },
    faults: [
        (at: "182499d", lasts: "182500d", fault: Crash(service: "db")),
        (at: "0s", lasts: "182500d", fault: Latency(from: "api", to: "db", add: Const("182500d"))),
        (at: "1ms", lasts: "182500d", fault: BrokerSlow(add: Const("182500d"))),
        (at: "0s", lasts: "182500d", fault: Slowdown(service: "c", factor: 1e300)),
    ],
)"#;
    let model = microsim::parse(text, "t.ron").expect("every duration is within the limit");
    assert_eq!(model.run_config().duration, microsim::time::MAX_DURATION);
    let analysis = model.analyze();
    assert!(!microsim::render::render_analysis(&model, &analysis).is_empty());
    let options = RunOptions {
        duration: Some(SimDuration::from_secs(10)),
        warmup: Some(SimDuration::from_secs(1)),
        ..RunOptions::default()
    };
    let report = model.run(&options).expect("a short run ends");
    assert!(report.entry("main").unwrap().offered > 0);
}

#[test]
fn breaker_time_window_past_u32_seconds_quotes_the_real_size() {
    // The size was clamped to u32::MAX seconds before the check, which then quoted 4294967295.
    let text = with_call(r#"                 breaker: (window: Time("182500d")),"#);
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window"),
        &["is 15768000000 seconds", "more than the limit of 1000000"],
    );
}

#[test]
fn zero_duration() {
    let text = with_run(r#"duration: "0s""#);
    expect_one(&text, "run.duration", Some("duration"), &["longer than 0"]);
}

#[test]
fn warmup_not_shorter_than_duration() {
    let text = with_run(r#"duration: "10s", warmup: "10s""#);
    expect_one(
        &text,
        "run.warmup",
        Some("warmup"),
        &["warm-up (10s)", "shorter than the run (10s)"],
    );
    let text = with_run(r#"duration: "10s", warmup: "1m""#);
    expect_one(&text, "run.warmup", Some("warmup"), &["warm-up (1m)"]);
}

#[test]
fn bad_warmup_duration() {
    let text = with_run(r#"duration: "10s", warmup: "5""#);
    expect_one(&text, "run.warmup", Some("warmup"), &["`5`", "no unit"]);
}

#[test]
fn zero_bucket() {
    let text = with_run(r#"bucket: "0ms""#);
    expect_one(
        &text,
        "run.bucket",
        Some("bucket"),
        &["bucket", "longer than 0"],
    );
}

#[test]
fn bad_bucket_duration() {
    let text = with_run(r#"bucket: "1 fortnight""#);
    expect_one(
        &text,
        "run.bucket",
        Some("bucket"),
        &["unknown unit `fortnight`"],
    );
}

#[test]
fn zero_max_in_flight() {
    let text = with_run("max_in_flight: 0");
    expect_one(
        &text,
        "run.max_in_flight",
        Some("max_in_flight"),
        &["at least 1"],
    );
}

#[test]
fn zero_max_events_per_instant() {
    let text = with_run("max_events_per_instant: 0");
    expect_one(
        &text,
        "run.max_events_per_instant",
        Some("max_events_per_instant"),
        &["at least 1"],
    );
}

// ---------------------------------------------------------------------------------------------
// services

#[test]
fn no_services() {
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {},
)"#;
    let ps = problems(text);
    assert_eq!(ps.len(), 2, "{ps:#?}");
    // Problems come in file order: the workload (line 2) before the services (line 3).
    assert_problem(
        &ps[1],
        text,
        "services",
        Some("services"),
        &["no services are defined", "add at least one"],
    );
    // The entry point cannot resolve its service either, and says why.
    assert_problem(
        &ps[0],
        text,
        "workload[main].entry",
        Some("entry"),
        &["unknown service `api`", "no services are defined"],
    );
}

#[test]
fn empty_service_name() {
    let text = with_services(
        r#"        "api": (work: Exp(mean: "1ms")),
        "": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[]",
        Some(r#""": ("#),
        &["must not be empty"],
    );
}

#[test]
fn blank_service_name() {
    let text = with_services(
        r#"        "api": (work: Exp(mean: "1ms")),
        "  ": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[  ]",
        Some(r#""  ""#),
        &["must not be empty"],
    );
}

#[test]
fn duplicate_service_names_point_at_the_second() {
    let text = with_services(
        r#"        "api": (work: Exp(mean: "1ms")),
        "db": (work: Exp(mean: "1ms")),
        "api": (work: Exp(mean: "2ms")),"#,
    );
    expect_one(
        &text,
        "services[api]",
        Some(r#""api": (work: Exp(mean: "2ms"))"#),
        &["duplicate service name `api`", "its own name"],
    );
}

#[test]
fn zero_replicas() {
    let text = with_services(r#"        "api": (replicas: 0, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].replicas",
        Some("replicas"),
        &["at least 1"],
    );
}

#[test]
fn too_many_replicas() {
    let text = with_services(r#"        "api": (replicas: 4000000000, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].replicas",
        Some("replicas"),
        &["4000000000", "more than the 10000"],
    );
}

#[test]
fn zero_workers() {
    let text = with_services(r#"        "api": (workers: 0, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].workers",
        Some("workers"),
        &["at least 1", "never answers"],
    );
}

#[test]
fn too_many_workers() {
    let text = with_services(r#"        "api": (workers: 4294967295, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].workers",
        Some("workers"),
        &["4294967295", "more than the 1000000"],
    );
}

#[test]
fn queue_too_long() {
    let text = with_services(r#"        "api": (queue: 4294967295, work: Exp(mean: "1ms")),"#);
    expect_one(
        &text,
        "services[api].queue",
        Some("queue"),
        &["4294967295", "leave `queue` out"],
    );
}

#[test]
fn errors_outside_zero_one() {
    for (v, shown) in [("1.5", "1.5"), ("-0.1", "-0.1")] {
        let text = with_services(&format!(r#"        "api": (errors: {v}),"#));
        expect_one(
            &text,
            "services[api].errors",
            Some("errors"),
            &["between 0 and 1", &format!("not {shown}")],
        );
    }
}

#[test]
fn errors_nan_and_inf() {
    for (v, shown) in [("NaN", "NaN"), ("inf", "inf"), ("-inf", "-inf")] {
        let text = with_services(&format!(r#"        "api": (errors: {v}),"#));
        expect_one(
            &text,
            "services[api].errors",
            Some("errors"),
            &["between 0 and 1", &format!("not {shown}")],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// distributions (the `(field, message)` errors of `Dist::compile`, and their durations)

#[test]
fn exp_mean_zero() {
    let text = with_services(r#"        "api": (work: Exp(mean: "0ms")),"#);
    expect_one(
        &text,
        "services[api].work.mean",
        Some("mean"),
        &["mean > 0", "Const(\"0ms\")"],
    );
}

#[test]
fn exp_mean_without_unit() {
    let text = with_services(r#"        "api": (work: Exp(mean: "2")),"#);
    expect_one(
        &text,
        "services[api].work.mean",
        Some("mean"),
        &["`2`", "no unit"],
    );
}

#[test]
fn const_without_unit() {
    let text = with_services(r#"        "api": (work: Const("5")),"#);
    expect_one(
        &text,
        "services[api].work",
        Some("work: Const"),
        &["`5`", "no unit"],
    );
}

#[test]
fn uniform_max_below_min() {
    let text = with_services(r#"        "api": (work: Uniform(min: "5ms", max: "2ms")),"#);
    expect_one(
        &text,
        "services[api].work.max",
        Some("max"),
        &["max (2ms) is below min (5ms)", "swap them"],
    );
}

#[test]
fn uniform_bad_bounds() {
    let text = with_services(r#"        "api": (work: Uniform(min: "-1ms", max: "2ms")),"#);
    expect_one(&text, "services[api].work.min", Some("min"), &["`-1ms`"]);
    let text = with_services(r#"        "api": (work: Uniform(min: "1ms", max: "2 lightyears")),"#);
    expect_one(
        &text,
        "services[api].work.max",
        Some("max"),
        &["unknown unit `lightyears`"],
    );
}

#[test]
fn lognormal_p99_not_above_median() {
    for p99 in ["8ms", "5ms"] {
        let text = with_services(&format!(
            r#"        "api": (work: LogNormal(median: "8ms", p99: "{p99}")),"#
        ));
        expect_one(
            &text,
            "services[api].work.p99",
            Some("p99"),
            &[
                &format!("p99 ({p99})"),
                "above the median (8ms)",
                "right tail",
            ],
        );
    }
}

#[test]
fn lognormal_median_zero() {
    let text = with_services(r#"        "api": (work: LogNormal(median: "0ms", p99: "5ms")),"#);
    expect_one(
        &text,
        "services[api].work.median",
        Some("median"),
        &["median must be above 0", "not 0ms"],
    );
}

#[test]
fn lognormal_bad_durations() {
    let text = with_services(r#"        "api": (work: LogNormal(median: "8", p99: "60ms")),"#);
    expect_one(
        &text,
        "services[api].work.median",
        Some("median"),
        &["no unit"],
    );
    let text = with_services(r#"        "api": (work: LogNormal(median: "8ms", p99: "x")),"#);
    expect_one(
        &text,
        "services[api].work.p99",
        Some("p99"),
        &["`x` is not a duration"],
    );
}

#[test]
fn lognormal_by_mean_and_cv_loads() {
    let text = with_services(r#"        "api": (work: LogNormal(mean: "10ms", cv: 1.5)),"#);
    let m = microsim::parse(&text, "t.ron").unwrap();
    let work = &m.services()[0].work;
    assert!((work.mean_ns() / 10e6 - 1.0).abs() < 1e-12, "{work:?}");
    assert!((work.scv() / 2.25 - 1.0).abs() < 1e-9, "{work:?}");
}

#[test]
fn lognormal_fields_of_both_forms() {
    let text = with_services(
        r#"        "api": (work: LogNormal(median: "8ms", p99: "60ms",
                              cv: 1.5)),"#,
    );
    expect_one(
        &text,
        "services[api].work.cv",
        Some("cv: 1.5"),
        &[
            "`median` and `p99` or by `mean` and `cv`",
            "not by fields of both",
            "keep one pair",
        ],
    );
}

#[test]
fn lognormal_without_parameters() {
    let text = with_services(r#"        "api": (work: LogNormal()),"#);
    expect_one(
        &text,
        "services[api].work",
        Some("work: LogNormal"),
        &[
            "needs either `median` and `p99`, or `mean` and `cv`",
            "LogNormal(mean: \"10ms\", cv: 1.5)",
        ],
    );
}

#[test]
fn lognormal_half_a_pair() {
    for (fields, given, missing) in [
        (r#"median: "8ms""#, "median", "p99"),
        (r#"p99: "60ms""#, "p99", "median"),
        (r#"mean: "10ms""#, "mean", "cv"),
        ("cv: 0.5", "cv", "mean"),
    ] {
        let text = with_services(&format!(r#"        "api": (work: LogNormal({fields})),"#));
        expect_one(
            &text,
            "services[api].work",
            Some("work: LogNormal"),
            &[
                &format!("given by its `{given}` needs `{missing}` too"),
                "e.g. LogNormal(",
            ],
        );
    }
}

#[test]
fn lognormal_mean_zero() {
    let text = with_services(r#"        "api": (work: LogNormal(mean: "0s", cv: 1.5)),"#);
    expect_one(
        &text,
        "services[api].work.mean",
        Some("mean"),
        &["mean must be above 0", "not 0s", "Const(\"0ms\")"],
    );
}

#[test]
fn lognormal_cv_not_positive_or_not_finite() {
    for cv in ["NaN", "inf", "0", "-1"] {
        let text = with_services(&format!(
            r#"        "api": (work: LogNormal(mean: "10ms", cv: {cv})),"#
        ));
        expect_one(
            &text,
            "services[api].work.cv",
            Some("cv"),
            &[
                "cv must be a finite number > 0",
                "standard deviation over the mean",
            ],
        );
    }
}

#[test]
fn lognormal_cv_too_extreme() {
    // cv² overflows: σ² = ln(1 + cv²) would be infinite.
    let text = with_services(r#"        "api": (work: LogNormal(mean: "10ms", cv: 1e200)),"#);
    expect_one(
        &text,
        "services[api].work.cv",
        Some("cv"),
        &["invalid log-normal", "too extreme", "between 0.01 and 100"],
    );
}

#[test]
fn gamma_mean_zero() {
    let text = with_services(r#"        "api": (work: Gamma(mean: "0s", cv: 0.5)),"#);
    expect_one(
        &text,
        "services[api].work.mean",
        Some("mean"),
        &["mean must be above 0", "not 0s"],
    );
}

#[test]
fn gamma_cv_not_positive_or_not_finite() {
    for cv in ["NaN", "inf", "0", "-1", "0.0"] {
        let text = with_services(&format!(
            r#"        "api": (work: Gamma(mean: "10ms", cv: {cv})),"#
        ));
        expect_one(
            &text,
            "services[api].work.cv",
            Some("cv"),
            &["cv must be a finite number > 0", "not"],
        );
    }
}

#[test]
fn gamma_cv_too_extreme() {
    // cv² underflows to 0: the gamma's scale would be 0.
    let text = with_services(r#"        "api": (work: Gamma(mean: "10ms", cv: 1e-200)),"#);
    expect_one(
        &text,
        "services[api].work.cv",
        Some("cv"),
        &["invalid gamma", "too extreme", "between 0.01 and 100"],
    );
}

#[test]
fn empirical_empty() {
    let text = with_services(r#"        "api": (work: Empirical([])),"#);
    expect_one(
        &text,
        "services[api].work",
        Some("work: Empirical"),
        &["at least one sample"],
    );
}

#[test]
fn empirical_bad_sample_is_indexed() {
    let text = with_services(
        r#"        "api": (work: Empirical([
            "1ms",
            "2ms",
            "3 furlongs",
        ])),"#,
    );
    expect_one(
        &text,
        "services[api].work[2]",
        Some("3 furlongs"),
        &["unknown unit `furlongs`"],
    );
}

// ---------------------------------------------------------------------------------------------
// steps

#[test]
fn work_step_distribution() {
    let text = with_services(
        r#"        "api": (steps: [
            Work(Exp(mean: "1ms")),
            Work(Exp(mean: "0ms")),
        ]),"#,
    );
    expect_one(
        &text,
        "services[api].steps[1].Work.mean",
        Some(r#"Work(Exp(mean: "0ms"))"#),
        &["mean > 0"],
    );
}

#[test]
fn unknown_service_suggests_the_closest_name() {
    let text = with_services(
        r#"        "api": (steps: [
            Call(to: "payment"),
            Call(to: "paymnet"),
        ]),
        "payment": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[1].to",
        Some(r#"Call(to: "paymnet")"#),
        &["unknown service `paymnet`", "did you mean `payment`?"],
    );
}

#[test]
fn unknown_service_without_a_close_match_lists_the_known_ones() {
    let text = with_services(
        r#"        "api": (steps: [Call(to: "warehouse")]),
        "payment": (work: Exp(mean: "1ms")),"#,
    );
    let p = expect_one(
        &text,
        "services[api].steps[0].to",
        Some("warehouse"),
        &[
            "unknown service `warehouse`",
            "known services: api, payment",
        ],
    );
    assert!(!p.text().contains("did you mean"), "{}", p.text());
}

#[test]
fn zero_call_timeout() {
    let text = with_services(
        r#"        "api": (steps: [
            Call(to: "db", timeout: "1s"),
            Call(to: "db",
                 timeout: "0ms"),
        ]),
        "db": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[1].timeout",
        Some(r#"timeout: "0ms""#),
        &[
            "timeout of 0 fails every call",
            "remove it",
            "positive duration",
        ],
    );
}

#[test]
fn bad_call_timeout() {
    let text = with_services(
        r#"        "api": (steps: [Call(to: "db", timeout: "150")]),
        "db": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0].timeout",
        Some("timeout"),
        &["`150` has no unit"],
    );
}

#[test]
fn bad_call_latency() {
    let text = with_services(
        r#"        "api": (steps: [
            Call(to: "db",
                 latency: Uniform(min: "3ms", max: "1ms")),
        ]),
        "db": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0].latency.max",
        Some("max:"),
        &["below min"],
    );
}

#[test]
fn call_probability_outside_zero_one() {
    for v in ["1.5", "-0.2", "NaN", "inf"] {
        let text = with_services(&format!(
            r#"        "api": (steps: [
            Call(to: "db",
                 probability: {v}),
        ]),
        "db": (work: Exp(mean: "1ms")),"#
        ));
        expect_one(
            &text,
            "services[api].steps[0].probability",
            Some("probability"),
            &["probability must be between 0 and 1", &format!("not {v}")],
        );
    }
}

#[test]
fn empty_parallel() {
    let text = with_services(r#"        "api": (steps: [Parallel(branches: [])]),"#);
    expect_one(
        &text,
        "services[api].steps[0].branches",
        Some("branches"),
        &["Parallel step needs at least one branch"],
    );
}

#[test]
fn parallel_probability() {
    let text = with_services(
        r#"        "api": (steps: [Parallel(branches: [[Work(Const("1ms"))]], probability: 2)]),"#,
    );
    // `2` is an integer literal: RON accepts it for an f64.
    expect_one(
        &text,
        "services[api].steps[0].probability",
        Some("probability"),
        &["between 0 and 1", "not 2"],
    );
}

#[test]
fn problem_inside_a_parallel_branch() {
    let text = with_services(
        r#"        "api": (steps: [
            Parallel(branches: [
                [Call(to: "db")],
                [Work(Const("1ms")),
                 Call(to: "bd", timeout: "1s")],
            ]),
        ]),
        "db": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0].branches[1][1].to",
        Some(r#"Call(to: "bd""#),
        &["unknown service `bd`", "did you mean `db`?"],
    );
}

#[test]
fn empty_choice() {
    let text = with_services(r#"        "api": (steps: [Choice(branches: [])]),"#);
    expect_one(
        &text,
        "services[api].steps[0].branches",
        Some("branches"),
        &["Choice step needs at least one branch"],
    );
}

#[test]
fn choice_probability() {
    let text = with_services(
        r#"        "api": (steps: [Choice(branches: [(weight: 1)], probability: -1)]),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0].probability",
        Some("probability"),
        &["between 0 and 1", "not -1"],
    );
}

#[test]
fn choice_weight_not_positive_or_not_finite() {
    for w in ["-1", "0", "NaN", "inf"] {
        let text = with_services(&format!(
            r#"        "api": (steps: [
            Choice(branches: [
                (weight: 1, steps: [Work(Const("1ms"))]),
                (weight: {w}, steps: []),
            ]),
        ]),"#
        ));
        expect_one(
            &text,
            "services[api].steps[0].branches[1].weight",
            Some(&format!("weight: {w}")),
            &["weight must be a finite number > 0", &format!("not {w}")],
        );
    }
}

#[test]
fn problem_inside_a_choice_branch() {
    let text = with_services(
        r#"        "api": (steps: [
            Choice(branches: [
                (weight: 1, steps: [Call(to: "db", timeout: "1s")]),
                (weight: 2, steps: [
                    Call(to: "db", timeout: "1s"),
                    Call(to: "db", timeout: "0s"),
                ]),
            ]),
        ]),
        "db": (work: Exp(mean: "1ms")),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0].branches[1].steps[1].timeout",
        Some(r#"timeout: "0s""#),
        &["timeout of 0"],
    );
}

// ---------------------------------------------------------------------------------------------
// workload

#[test]
fn empty_workload() {
    let text = r#"Topology(
    workload: [],
    services: { "api": (work: Exp(mean: "1ms")) },
)"#;
    expect_one(
        text,
        "workload",
        Some("workload"),
        &["workload is empty", "add an entry point"],
    );
}

#[test]
fn missing_workload_is_reported_where_the_topology_starts() {
    // Reproducer: a field left out had no line to point at, and the problem was printed
    // without one. A top-level field left out gets the line where the topology starts.
    let text = r#"// A comment first.

Topology(
    services: { "api": (work: Exp(mean: "1ms")) },
)"#;
    expect_one(text, "workload", Some("Topology("), &["workload is empty"]);
    let err = microsim::parse(text, "t.ron").unwrap_err().to_string();
    assert!(
        err.contains("\n  - t.ron:3: workload: the workload is empty"),
        "{err}"
    );
}

#[test]
fn duplicate_entry_names_point_at_the_second() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1)),
        (name: "main", entry: "api", arrivals: Constant(per_second: 2)),"#,
    );
    expect_one(
        &text,
        "workload[main]",
        Some("Constant"),
        &["duplicate entry point name `main`"],
    );
}

#[test]
fn entry_to_unknown_service() {
    let text =
        with_workload(r#"        (name: "main", entry: "apl", arrivals: Poisson(per_second: 1)),"#);
    expect_one(
        &text,
        "workload[main].entry",
        Some("entry"),
        &["unknown service `apl`", "did you mean `api`?"],
    );
}

#[test]
fn rate_not_finite_or_negative() {
    for (kind, v) in [
        ("Poisson", "inf"),
        ("Poisson", "NaN"),
        ("Poisson", "-1"),
        ("Constant", "-0.5"),
        ("Constant", "inf"),
    ] {
        let text = with_workload(&format!(
            r#"        (name: "main", entry: "api", arrivals: {kind}(per_second: {v})),"#
        ));
        expect_one(
            &text,
            "workload[main].arrivals.per_second",
            Some("per_second"),
            &["rate must be a finite number ≥ 0", &format!("not {v}")],
        );
    }
}

#[test]
fn profile_rate_not_finite() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1, profile: [
            (at: "1s", per_second: 5),
            (at: "2s", per_second: NaN),
        ])),"#,
    );
    expect_one(
        &text,
        "workload[main].arrivals.profile[1].per_second",
        Some("per_second: NaN"),
        &["rate must be a finite number", "not NaN"],
    );
}

#[test]
fn rate_above_one_per_nanosecond_is_refused() {
    // Reproducer: 10¹² requests/s was clamped to one arrival per nanosecond without a word
    // (`check` showed 10¹²/s; a 1 µs run offered 999 requests instead of ~10⁶).
    for (kind, v) in [
        ("Poisson", "1000000000000"),
        ("Constant", "1000000000.5"),
        ("Poisson", "1e300"),
    ] {
        let text = with_workload(&format!(
            r#"        (name: "main", entry: "api", arrivals: {kind}(per_second: {v})),"#
        ));
        let p = expect_one(
            &text,
            "workload[main].arrivals.per_second",
            Some("per_second"),
            &[
                "more than the 1000000000 (10⁹) one entry point can offer",
                "whole nanoseconds",
                "lower it, or split the load over several entry points",
            ],
        );
        let shown: f64 = v.parse().unwrap();
        assert!(
            p.message.contains(&format!("a rate of {shown} requests/s")),
            "{}",
            p.message
        );
    }
}

#[test]
fn profile_rate_above_one_per_nanosecond_is_refused() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Constant(per_second: 1, profile: [
            (at: "1s", per_second: 5),
            (at: "2s", per_second: 2e9, ramp: true),
        ])),"#,
    );
    expect_one(
        &text,
        "workload[main].arrivals.profile[1].per_second",
        Some("per_second: 2e9"),
        &[
            "a rate of 2000000000 requests/s",
            "more than the 1000000000",
        ],
    );
}

#[test]
fn rate_of_one_per_nanosecond_is_kept_exactly() {
    // The limit itself is representable: 1 µs at 10⁹/s offers one request every nanosecond,
    // at 1, 2, …, 999 ns (the one at 1000 ns is the end of the run).
    let text = r#"Topology(
    run: (duration: "1us", bucket: "1us"),
    workload: [(name: "main", entry: "api", arrivals: Constant(per_second: 1e9))],
    services: { "api": (workers: 2, work: Const("0ns")) },
)"#;
    let model = microsim::parse(text, "t.ron").expect("the limit is accepted");
    let report = model.run(&RunOptions::default()).unwrap();
    assert_eq!(report.entry("main").unwrap().offered, 999);
}

#[test]
fn profile_bad_time() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1, profile: [
            (at: "1", per_second: 5),
        ])),"#,
    );
    expect_one(
        &text,
        "workload[main].arrivals.profile[0].at",
        Some(r#"at: "1""#),
        &["`1` has no unit"],
    );
}

#[test]
fn profile_points_out_of_order() {
    for second in ["5s", "3s"] {
        let text = with_workload(&format!(
            r#"        (name: "main", entry: "api", arrivals: Constant(per_second: 1, profile: [
            (at: "5s", per_second: 5),
            (at: "{second}", per_second: 2, ramp: true),
        ])),"#
        ));
        expect_one(
            &text,
            "workload[main].arrivals.profile[1].at",
            Some(&format!(r#"(at: "{second}", per_second: 2"#)),
            &["increasing time order", &format!("{second} is not after")],
        );
    }
}

#[test]
fn zero_entry_timeout() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1),
         timeout: "0ms"),"#,
    );
    expect_one(
        &text,
        "workload[main].timeout",
        Some("timeout"),
        &["timeout of 0 fails every request"],
    );
}

#[test]
fn bad_entry_timeout() {
    let text = with_workload(
        r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1), timeout: "2 secs"),"#,
    );
    expect_one(
        &text,
        "workload[main].timeout",
        Some("timeout"),
        &["unknown unit `secs`"],
    );
}

// ---------------------------------------------------------------------------------------------
// the call graph

#[test]
fn self_call_is_a_cycle() {
    let text = with_services(
        r#"        "api": (
            work: Exp(mean: "1ms"),
            steps: [Call(to: "api", timeout: "1s")],
        ),"#,
    );
    expect_one(
        &text,
        "services[api].steps[0]",
        Some(r#"Call(to: "api""#),
        &["sync call cycle api → api", "deadlock", "break the cycle"],
    );
}

#[test]
fn two_cycle_names_its_path() {
    let text = with_services(
        r#"        "api": (steps: [Call(to: "db")]),
        "db": (
            steps: [Call(to: "api", probability: 0.1)],
        ),"#,
    );
    // The problem points at the call that closes the cycle, back into its first service.
    expect_one(
        &text,
        "services[db].steps[0]",
        Some(r#"Call(to: "api""#),
        &["sync call cycle api → db → api", "deadlock"],
    );
}

#[test]
fn cycle_through_a_branch_starts_where_the_cycle_does() {
    let text = with_services(
        r#"        "api": (steps: [Call(to: "a")]),
        "a": (steps: [Work(Const("1ms"))]),
        "b": (steps: [Parallel(branches: [[Call(to: "c")]])]),
        "c": (
            steps: [Choice(branches: [(weight: 1, steps: [Call(to: "b")])])],
        ),"#,
    );
    expect_one(
        &text,
        "services[c].steps[0].branches[0].steps[0]",
        Some(r#"Call(to: "b")"#),
        &["sync call cycle b → c → b"],
    );
}

#[test]
fn every_independent_cycle_is_reported_once() {
    // Reproducer: with two independent cycles, only the first was reported. Here there are
    // three components with cycles: a self-call, a 2-cycle, and a component where `x` is on
    // two cycles (x → y → x and x → z → x) and is reported once, by its shortest cycle
    // through the first service in file order.
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {
        "api": (steps: [Call(to: "x"), Call(to: "p")]),
        "x": (steps: [Call(to: "z"), Call(to: "y")]),
        "y": (steps: [Call(to: "x")]),
        "z": (steps: [Call(to: "w")]),
        "w": (steps: [Call(to: "x")]),
        "p": (steps: [Call(to: "q")]),
        "q": (steps: [Call(to: "p")]),
        "s": (steps: [Call(to: "s")]),
    },
)"#;
    let ps = problems(text);
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(
        &ps[0],
        text,
        "services[y].steps[0]",
        Some(r#""y": (steps: [Call(to: "x")"#),
        &["sync call cycle x → y → x would deadlock"],
    );
    assert_problem(
        &ps[1],
        text,
        "services[q].steps[0]",
        Some(r#""q": (steps"#),
        &["sync call cycle p → q → p would deadlock"],
    );
    assert_problem(
        &ps[2],
        text,
        "services[s].steps[0]",
        Some(r#""s": (steps"#),
        &["sync call cycle s → s would deadlock"],
    );
    // The same file gives the same messages in the same order every time.
    assert_eq!(problems(text), ps);
}

// ---------------------------------------------------------------------------------------------
// resilience policies on a call: retry, backoff, budget, breaker, bulkhead, fallback

/// A valid topology where `api` calls `db` once; `policy` (one or more lines of `Call`
/// fields, each ending with a comma) is added to the call.
fn with_call(policy: &str) -> String {
    with_services(&format!(
        r#"        "api": (steps: [
            Call(to: "db", timeout: "1s",
{policy}
            ),
        ]),
        "db": (workers: 2, work: Exp(mean: "1ms")),"#
    ))
}

/// The path of a field of the call in [`with_call`].
fn call_path(field: &str) -> String {
    format!("services[api].steps[0].{field}")
}

#[test]
fn resilience_fields_in_range_load() {
    // The edges of every range below are accepted, so the tests that follow test the limits.
    for policy in [
        "                 retry: (attempts: 1),",
        "                 retry: (attempts: 100),",
        r#"                 retry: (attempts: 3, backoff: Exponential(base: "1ns", max: "1ns", multiplier: 1)),"#,
        r#"                 retry: (attempts: 3, backoff: Constant("0ms"), jitter: Full),"#,
        r#"                 retry: (attempts: 3, backoff: Exponential(base: "5ms", max: "50ms"), jitter: Decorrelated),"#,
        "                 retry: (attempts: 3, budget: Envoy(percent: 0)),",
        "                 retry: (attempts: 3, budget: Envoy(percent: 100, min_concurrency: 0)),",
        "                 retry: (attempts: 3, budget: TokenBucket(max_tokens: 1000, token_ratio: 0.001)),",
        "                 breaker: (failure_rate: 1, slow_call_rate: 1),",
        r#"                 breaker: (window: Time("1s"), min_calls: 1, half_open_calls: 1),"#,
        r#"                 breaker: (open_for: "1ms", max_half_open: "1ms", slow_call: "1ns"),"#,
        "                 breaker: (window: Count(1000000), half_open_calls: 1000000),",
        r#"                 bulkhead: (max_concurrent: 1, max_wait: "0ms"),"#,
        r#"                 on_failure: Fallback(Const("0ms")),"#,
        "                 deadlines: (propagate: true, cancel: true),",
    ] {
        let text = with_call(policy);
        if let Err(e) = microsim::parse(&text, "t.ron") {
            panic!("{policy} was refused: {e}");
        }
    }
    let text = with_services(r#"        "api": (nonblocking: (max_in_flight: 1)),"#);
    microsim::parse(&text, "t.ron").unwrap();
}

#[test]
fn retry_attempts_zero() {
    let text = with_call(
        "                 retry: (
                     attempts: 0,
                 ),",
    );
    expect_one(
        &text,
        &call_path("retry.attempts"),
        Some("attempts: 0"),
        &[
            "must be at least 1",
            "counts the first call",
            "1 = no retries",
        ],
    );
}

#[test]
fn retry_attempts_above_the_maximum() {
    for n in ["101", "4294967295"] {
        let text = with_call(&format!(
            "                 retry: (
                     attempts: {n},
                 ),"
        ));
        expect_one(
            &text,
            &call_path("retry.attempts"),
            Some(&format!("attempts: {n}")),
            &[&format!("{n} attempts"), "more than the 100", "gRPC: 5"],
        );
    }
}

#[test]
fn retry_attempts_negative_is_out_of_bounds() {
    let text = with_call("                 retry: (attempts: -1),");
    let (line, _, message) = syntax(&text);
    assert_eq!(line, line_of(&text, "attempts: -1"));
    assert!(message.contains("out of bounds"), "{message}");
}

/// A retry with an exponential backoff written as `backoff` (the inside of `Exponential(...)`).
fn with_exponential(backoff: &str) -> String {
    with_call(&format!(
        "                 retry: (
                     attempts: 3,
                     backoff: Exponential(
{backoff}
                     ),
                 ),"
    ))
}

#[test]
fn backoff_multiplier_below_one() {
    let text = with_exponential(
        r#"                         base: "10ms",
                         max: "1s",
                         multiplier: 0.5,"#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff.multiplier"),
        Some("multiplier: 0.5"),
        &["`0.5` is below 1", "shrink the delay", "≥ 1"],
    );
}

#[test]
fn backoff_multiplier_not_finite() {
    for v in ["NaN", "inf", "-inf"] {
        let text = with_exponential(&format!(
            r#"                         base: "10ms",
                         max: "1s",
                         multiplier: {v},"#
        ));
        expect_one(
            &text,
            &call_path("retry.backoff.multiplier"),
            Some(&format!("multiplier: {v}")),
            &[&format!("`{v}` is not a finite number"), "e.g. 2"],
        );
    }
}

#[test]
fn backoff_max_below_base() {
    let text = with_exponential(
        r#"                         base: "100ms",
                         max: "10ms","#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff.max"),
        Some(r#"max: "10ms""#),
        &["10ms is shorter than base 100ms", "at least base"],
    );
}

/// What to do is a hint of its own, shown after the message: for the compiler's own checks,
/// for names, and for the checks of the mechanisms (placed at their field in the file).
#[test]
fn problems_say_what_to_do_in_a_hint_of_their_own() {
    let text = with_exponential(
        r#"                         base: "100ms",
                         max: "10ms","#,
    );
    let p = expect_one(
        &text,
        &call_path("retry.backoff.max"),
        Some(r#"max: "10ms""#),
        &[],
    );
    assert_eq!(p.message, "10ms is shorter than base 100ms");
    assert_eq!(p.hint.as_deref(), Some("max must be at least base"));
    let text = with_breaker("                     min_calls: 0,");
    let p = expect_one(
        &text,
        &call_path("breaker.min_calls"),
        Some("min_calls: 0"),
        &[],
    );
    assert_eq!(p.message, "is 0");
    assert!(
        p.hint.as_deref().is_some_and(|h| h.contains("at least 1")),
        "{p}"
    );
    let text = with_call(r#"                 bulkhead: (max_concurrent: 0),"#);
    let p = expect_one(
        &text,
        &call_path("bulkhead.max_concurrent"),
        Some("max_concurrent"),
        &[],
    );
    assert_eq!(p.hint.as_deref(), Some("remove the bulkhead for no limit"));
    let text = with_services(
        r#"        "api": (steps: [Call(to: "paymnt")]),
        "payment": (),"#,
    );
    let p = expect_one(&text, "services[api].steps[0].to", Some("paymnt"), &[]);
    assert_eq!(p.message, "unknown service `paymnt`");
    assert_eq!(p.hint.as_deref(), Some("did you mean `payment`?"));
    // A check that says everything in its message has no hint.
    let text = with_services(r#"        "api": (replicas: 0),"#);
    let p = expect_one(&text, "services[api].replicas", Some("replicas: 0"), &[]);
    assert_eq!(
        (p.message.as_str(), p.hint),
        ("replicas must be at least 1", None)
    );
}

#[test]
fn backoff_base_zero() {
    let text = with_exponential(
        r#"                         base: "0ms",
                         max: "1s","#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff.base"),
        Some(r#"base: "0ms""#),
        &["must be longer than 0", "not 0ms"],
    );
}

#[test]
fn backoff_base_and_max_zero_is_one_problem() {
    let text = with_exponential(
        r#"                         base: "0ms",
                         max: "0ms","#,
    );
    // Today: a second problem, `retry.backoff.max: 0s is shorter than base 1ns`.
    expect_one(
        &text,
        &call_path("retry.backoff.base"),
        Some(r#"base: "0ms""#),
        &["must be longer than 0"],
    );
}

#[test]
fn backoff_bad_durations() {
    let text = with_exponential(
        r#"                         base: "10",
                         max: "1s","#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff.base"),
        Some(r#"base: "10""#),
        &["`10` has no unit"],
    );
    let text = with_exponential(
        r#"                         base: "10ms",
                         max: "1 sec","#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff.max"),
        Some(r#"max: "1 sec""#),
        &["unknown unit `sec`"],
    );
    let text = with_call(
        r#"                 retry: (
                     attempts: 3,
                     backoff: Constant("-5ms"),
                 ),"#,
    );
    expect_one(
        &text,
        &call_path("retry.backoff"),
        Some("backoff: Constant"),
        &["`-5ms` is not a duration", "non-negative"],
    );
}

#[test]
fn decorrelated_jitter_on_a_constant_backoff() {
    let text = with_call(
        r#"                 retry: (
                     attempts: 3,
                     backoff: Constant("5ms"),
                     jitter: Decorrelated,
                 ),"#,
    );
    expect_one(
        &text,
        &call_path("retry.jitter"),
        Some("jitter: Decorrelated"),
        &[
            "decorrelated jitter",
            "constant delay 5ms",
            "exactly 5ms",
            "use an exponential backoff",
        ],
    );
    // The default backoff is a constant 0s.
    let text = with_call(
        "                 retry: (
                     attempts: 3,
                     jitter: Decorrelated,
                 ),",
    );
    expect_one(
        &text,
        &call_path("retry.jitter"),
        Some("jitter: Decorrelated"),
        &["constant delay 0s"],
    );
}

/// A retry with the budget `budget`, on a line of its own.
fn with_budget(budget: &str) -> String {
    with_call(&format!(
        "                 retry: (
                     attempts: 3,
                     budget: {budget},
                 ),"
    ))
}

#[test]
fn envoy_budget_percent_out_of_range() {
    for v in ["150", "100.5", "-1", "NaN", "inf"] {
        let text = with_budget(&format!("Envoy(percent: {v})"));
        expect_one(
            &text,
            &call_path("retry.budget.percent"),
            Some("percent"),
            &[&format!("`{v}` is not a percentage"), "from 0 to 100"],
        );
    }
}

#[test]
fn envoy_budget_that_allows_no_retry() {
    let text = with_call(
        "                 retry: (
                     attempts: 3,
                     budget: Envoy(
                         percent: 0,
                         min_concurrency: 0,
                     ),
                 ),",
    );
    expect_one(
        &text,
        &call_path("retry.budget.min_concurrency"),
        Some("min_concurrency: 0"),
        &[
            "is 0 and percent is 0",
            "no retry could ever start",
            "Envoy defaults",
        ],
    );
}

#[test]
fn token_bucket_max_tokens_out_of_range() {
    for v in ["0", "2000", "1000.5", "-3", "NaN", "inf"] {
        let text = with_budget(&format!("TokenBucket(max_tokens: {v}, token_ratio: 0.1)"));
        expect_one(
            &text,
            &call_path("retry.budget.max_tokens"),
            Some("max_tokens"),
            &[
                &format!("`{v}` is out of range"),
                "more than 0 and at most 1000",
            ],
        );
    }
}

#[test]
fn token_bucket_token_ratio_too_small() {
    for v in ["0", "-0.5", "0.0001", "NaN", "inf"] {
        let text = with_budget(&format!("TokenBucket(max_tokens: 10, token_ratio: {v})"));
        expect_one(
            &text,
            &call_path("retry.budget.token_ratio"),
            Some("token_ratio"),
            &[&format!("`{v}` is out of range"), "at least 0.001"],
        );
    }
}

/// A call with the breaker fields `fields`, on lines of their own.
fn with_breaker(fields: &str) -> String {
    with_call(&format!(
        "                 breaker: (
                     automatic: true,
{fields}
                 ),"
    ))
}

#[test]
fn breaker_rates_outside_zero_one() {
    for field in ["failure_rate", "slow_call_rate"] {
        for v in ["0", "1.5", "2", "-0.1", "NaN", "inf"] {
            let text = with_breaker(&format!("                     {field}: {v},"));
            expect_one(
                &text,
                &call_path(&format!("breaker.{field}")),
                Some(&format!("{field}: {v}")),
                &["must be a fraction in (0, 1]", &format!("not {v}")],
            );
        }
    }
}

#[test]
fn breaker_slow_call_duration() {
    let text = with_breaker(r#"                     slow_call: "0ms","#);
    expect_one(
        &text,
        &call_path("breaker.slow_call"),
        Some("slow_call:"),
        &["must be longer than 0", "not 0ms"],
    );
    let text = with_breaker(r#"                     slow_call: "2","#);
    expect_one(
        &text,
        &call_path("breaker.slow_call"),
        Some("slow_call:"),
        &["`2` has no unit"],
    );
}

#[test]
fn breaker_count_window() {
    let text = with_breaker("                     window: Count(0),");
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window: Count(0)"),
        &["is 0 calls", "at least 1", "Count(100)"],
    );
    let text = with_breaker("                     window: Count(1000001),");
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window"),
        &["is 1000001 calls", "more than the limit of 1000000"],
    );
}

#[test]
fn breaker_time_window_not_whole_seconds() {
    let text = with_breaker(r#"                     window: Time("1500ms"),"#);
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window: Time"),
        &["whole number of seconds", "one-second buckets", "not 1.5s"],
    );
}

#[test]
fn breaker_time_window_zero_or_bad() {
    let text = with_breaker(r#"                     window: Time("0s"),"#);
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window: Time"),
        &["must be longer than 0", "not 0s"],
    );
    let text = with_breaker(r#"                     window: Time("10"),"#);
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window: Time"),
        &["`10` has no unit"],
    );
    let text = with_breaker(r#"                     window: Time("1000000h"),"#);
    expect_one(
        &text,
        &call_path("breaker.window"),
        Some("window: Time"),
        &["is 3600000000 seconds", "more than the limit"],
    );
}

#[test]
fn breaker_min_calls_zero() {
    let text = with_breaker("                     min_calls: 0,");
    expect_one(
        &text,
        &call_path("breaker.min_calls"),
        Some("min_calls: 0"),
        &["is 0", "at least 1 result"],
    );
}

#[test]
fn breaker_open_for() {
    let text = with_breaker(r#"                     open_for: "0s","#);
    expect_one(
        &text,
        &call_path("breaker.open_for"),
        Some("open_for"),
        &["must be longer than 0", "not 0s"],
    );
    // resilience4j counts the wait in whole milliseconds.
    let text = with_breaker(r#"                     open_for: "500us","#);
    expect_one(
        &text,
        &call_path("breaker.open_for"),
        Some("open_for"),
        &["is 500us", "at least 1ms"],
    );
    let text = with_breaker(r#"                     open_for: "x","#);
    expect_one(
        &text,
        &call_path("breaker.open_for"),
        Some("open_for"),
        &["`x` is not a duration"],
    );
}

#[test]
fn breaker_half_open_calls() {
    let text = with_breaker("                     half_open_calls: 0,");
    expect_one(
        &text,
        &call_path("breaker.half_open_calls"),
        Some("half_open_calls: 0"),
        &["is 0", "never close again", "at least 1 probe"],
    );
    let text = with_breaker("                     half_open_calls: 1000001,");
    expect_one(
        &text,
        &call_path("breaker.half_open_calls"),
        Some("half_open_calls"),
        &["is 1000001", "more than the limit of 1000000"],
    );
}

#[test]
fn breaker_max_half_open() {
    let text = with_breaker(r#"                     max_half_open: "0s","#);
    expect_one(
        &text,
        &call_path("breaker.max_half_open"),
        Some("max_half_open"),
        &["must be longer than 0", "not 0s"],
    );
    let text = with_breaker(r#"                     max_half_open: "5","#);
    expect_one(
        &text,
        &call_path("breaker.max_half_open"),
        Some("max_half_open"),
        &["`5` has no unit"],
    );
}

#[test]
fn breaker_max_half_open_below_a_millisecond() {
    let text = with_breaker(r#"                     max_half_open: "500us","#);
    expect_one(
        &text,
        &call_path("breaker.max_half_open"),
        Some("max_half_open"),
        &["is 500us", "at least 1ms"],
    );
}

#[test]
fn bulkhead_max_concurrent_zero() {
    let text = with_call(
        "                 bulkhead: (
                     max_concurrent: 0,
                 ),",
    );
    expect_one(
        &text,
        &call_path("bulkhead.max_concurrent"),
        Some("max_concurrent: 0"),
        &["at least 1 call through", "remove the bulkhead"],
    );
}

#[test]
fn bulkhead_bad_max_wait() {
    for (v, words) in [
        ("10", "`10` has no unit"),
        ("-1ms", "`-1ms` is not a duration"),
    ] {
        let text = with_call(&format!(
            r#"                 bulkhead: (
                     max_concurrent: 2,
                     max_wait: "{v}",
                 ),"#
        ));
        expect_one(
            &text,
            &call_path("bulkhead.max_wait"),
            Some("max_wait"),
            &[words],
        );
    }
}

#[test]
fn fallback_distribution() {
    let text = with_call(
        r#"                 on_failure: Fallback(
                     Exp(mean: "0ms"),
                 ),"#,
    );
    expect_one(
        &text,
        &call_path("on_failure.Fallback.mean"),
        Some(r#"Exp(mean: "0ms")"#),
        &["mean > 0", "Const(\"0ms\")"],
    );
    let text = with_call(r#"                 on_failure: Fallback(Const("2")),"#);
    expect_one(
        &text,
        &call_path("on_failure.Fallback"),
        Some("Fallback"),
        &["`2` has no unit"],
    );
}

#[test]
fn nonblocking_max_in_flight_zero() {
    let text = with_services(
        r#"        "api": (
            work: Exp(mean: "1ms"),
            nonblocking: (max_in_flight: 0),
        ),"#,
    );
    expect_one(
        &text,
        "services[api].nonblocking.max_in_flight",
        Some("nonblocking"),
        &["at least 1 request in flight"],
    );
}

/// Checks that `text` has one problem, the unknown field at `path` (whose last segment is the
/// field as written), at its line, listing the valid fields `expected` or suggesting one.
#[track_caller]
fn unknown_field(text: &str, path: &str, expected: &[&str]) {
    let field = path.rsplit('.').next().unwrap();
    let p = expect_one(
        text,
        path,
        Some(&format!("{field}:")),
        &[&format!("unknown field `{field}`")],
    );
    for w in expected {
        assert!(p.text().contains(&format!("`{w}`")), "{}", p.text());
    }
    assert!(!p.text().contains("Spec"), "{}", p.text());
}

#[test]
fn unknown_fields_in_policies_are_named_at_their_path() {
    let text = with_call(
        "                 retry: (
                     attempts: 3,
                     tries: 2,
                 ),",
    );
    unknown_field(&text, &call_path("retry.tries"), &["attempts", "budget"]);
    let text = with_call(
        "                 breaker: (
                     failure_rate: 0.5,
                     threshold: 0.2,
                 ),",
    );
    unknown_field(
        &text,
        &call_path("breaker.threshold"),
        &["failure_rate", "max_half_open"],
    );
    let text = with_call(
        "                 bulkhead: (
                     max_concurrent: 2,
                     queue: 10,
                 ),",
    );
    unknown_field(
        &text,
        &call_path("bulkhead.queue"),
        &["max_concurrent", "max_wait"],
    );
    let text = with_call(
        "                 deadlines: (
                     propagate: true,
                     cancl: true,
                 ),",
    );
    unknown_field(&text, &call_path("deadlines.cancl"), &["cancel"]);
    let text = with_services(r#"        "api": (nonblocking: (max_in_flight: 4, workers: 2)),"#);
    unknown_field(
        &text,
        "services[api].nonblocking.workers",
        &["max_in_flight"],
    );
}

#[test]
fn unknown_field_in_topology_deadlines() {
    let text = r#"Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: { "api": (work: Exp(mean: "1ms")) },
    deadlines: (
        propagate: true,
        cancel_on_timeout: true,
    ),
)"#;
    unknown_field(
        text,
        "deadlines.cancel_on_timeout",
        &["propagate", "cancel"],
    );
}

#[test]
fn unknown_fields_in_policy_variants_are_named_at_their_path() {
    // The fields of enum variants (budgets, backoffs, steps) are checked too: a misspelt one
    // must not keep its default without a word, e.g. `factor:` for `multiplier:`, or a whole
    // `retyr:` policy.
    for (text, path, words) in [
        (
            with_budget("Envoy(percent: 20, min: 5)"),
            call_path("retry.budget.min"),
            &["percent", "min_concurrency"][..],
        ),
        (
            with_budget("TokenBucket(max_tokens: 10, token_ratio: 0.1, ratio: 1)"),
            call_path("retry.budget.ratio"),
            &["max_tokens", "token_ratio"],
        ),
        (
            with_exponential(
                r#"                         base: "10ms",
                         max: "1s",
                         factor: 3,"#,
            ),
            call_path("retry.backoff.factor"),
            &["multiplier"],
        ),
        (
            with_call("                 retyr: (attempts: 3),"),
            call_path("retyr"),
            &["retry"],
        ),
    ] {
        unknown_field(&text, &path, words);
    }
    let text = with_call("                 retyr: (attempts: 3),");
    assert!(problems(&text)[0].text().ends_with("did you mean `retry`?"));
}

// ---------------------------------------------------------------------------------------------
// faults and failure processes

/// A valid topology (`api` calls `payment`; `audit` is called by no one) with a first,
/// valid fault, then `faults`.
fn with_faults(faults: &str) -> String {
    format!(
        r#"Topology(
    run: (duration: "10s"),
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {{
        "api": (steps: [Call(to: "payment", timeout: "1s")]),
        "payment": (replicas: 2, work: Exp(mean: "1ms")),
        "audit": (work: Exp(mean: "1ms")),
    }},
    faults: [
        (at: "1s", lasts: "1s", fault: Crash(service: "payment", replicas: 1)),
{faults}
    ],
)
"#
    )
}

#[test]
fn fault_on_an_unknown_service_suggests_the_closest_name() {
    for kind in [
        r#"Crash(
             service: "paymnt",
         )"#,
        r#"Slowdown(
             service: "paymnt",
             factor: 2.0,
         )"#,
    ] {
        let text = with_faults(&format!(
            r#"        (at: "2s", lasts: "1s",
         fault: {kind}),"#
        ));
        expect_one(
            &text,
            "faults[1].fault.service",
            Some(r#"service: "paymnt""#),
            &["unknown service `paymnt`", "did you mean `payment`?"],
        );
    }
    let text = with_faults(
        r#"        (at: "2s", lasts: "1s",
         fault: Partition(
             from: "api",
             to: "paymnt",
         )),"#,
    );
    expect_one(
        &text,
        "faults[1].fault.to",
        Some(r#"to: "paymnt""#),
        &["unknown service `paymnt`", "did you mean `payment`?"],
    );
}

#[test]
fn partition_on_an_edge_without_calls() {
    let text = with_faults(
        r#"        (at: "2s", lasts: "1s",
         fault: Partition(
             from: "api",
             to: "audit",
         )),"#,
    );
    expect_one(
        &text,
        "faults[1].fault.to",
        Some(r#"to: "audit""#),
        &[
            "`api` makes no sync call to `audit`",
            "a partition there would change nothing",
            "`api` calls payment",
            "name an edge that has calls",
        ],
    );
    // The reverse of a call edge is not one, and a latency fault is checked the same way.
    let text = with_faults(
        r#"        (at: "2s", lasts: "1s",
         fault: Latency(
             from: "payment",
             to: "api",
             add: Const("5ms"),
         )),"#,
    );
    expect_one(
        &text,
        "faults[1].fault.to",
        Some(r#"to: "api""#),
        &[
            "`payment` makes no sync call to `api`",
            "extra latency there",
            "`payment` makes no sync calls",
        ],
    );
}

#[test]
fn failures_with_both_a_mean_and_a_distribution() {
    let text = with_services(
        r#"        "api": (
            work: Exp(mean: "1ms"),
            failures: (
                mttf: "4h",
                mttr: "3m",
                failure: Exp(mean: "4h"),
            ),
        ),"#,
    );
    expect_one(
        &text,
        "services[api].failures.failure",
        Some("failure: Exp"),
        &[
            "give the time to failure once",
            r#"`mttf: "4h"` is short for `failure: Exp(mean: "4h")`"#,
            "remove one of them",
        ],
    );
    let text = with_services(
        r#"        "api": (
            work: Exp(mean: "1ms"),
            failures: (
                mttf: "4h",
                mttr: "3m",
                repair: Const("3m"),
            ),
        ),"#,
    );
    expect_one(
        &text,
        "services[api].failures.repair",
        Some("repair:"),
        &["give the time to repair once", "remove one of them"],
    );
}

// ---------------------------------------------------------------------------------------------
// every problem at once

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = r#"Topology(
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
)"#;
    let ps = problems(text);
    assert_eq!(ps.len(), 3, "{ps:#?}");
    assert_problem(&ps[0], text, "run.duration", Some("duration"), &["no unit"]);
    assert_problem(
        &ps[1],
        text,
        "services[api].workers",
        Some("workers: 0"),
        &["at least 1"],
    );
    assert_problem(
        &ps[2],
        text,
        "services[api].steps[0].to",
        Some("paymnet"),
        &["did you mean `payment`?"],
    );
    let err = microsim::parse(text, "t.ron").unwrap_err().to_string();
    assert!(err.starts_with("t.ron: 3 problems found:\n"), "{err}");
    assert_eq!(err.matches("\n  - t.ron:").count(), 3, "{err}");
    assert!(
        err.contains("\n  - t.ron:2: run.duration: `10` has no unit"),
        "{err}"
    );
}

#[test]
fn many_problems_in_one_service_are_all_reported() {
    let text = with_services(
        r#"        "api": (
            replicas: 0,
            errors: 2,
            work: LogNormal(median: "9ms", p99: "1ms"),
            steps: [Choice(branches: []), Parallel(branches: [])],
        ),"#,
    );
    let paths: Vec<String> = problems(&text).into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        [
            "services[api].replicas",
            "services[api].errors",
            "services[api].work.p99",
            "services[api].steps[0].branches",
            "services[api].steps[1].branches",
        ]
    );
}

#[test]
fn load_reports_a_missing_file() {
    let err = microsim::load("no/such/topology.ron").unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(err.problems().is_empty());
    let shown = err.to_string();
    assert!(
        shown.starts_with("cannot read no/such/topology.ron: "),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------------------
// edits: a model is changed only by overrides (or the builder), checked as the file is

/// A small shop whose `api` has 8 workers, as the file `shop.ron`.
const SHOP: &str = r#"Topology(
    run: (duration: "10s", warmup: "2s"),
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {
        "api": (workers: 8, work: Exp(mean: "1ms"), steps: [Call(to: "db")]),
        "db": (work: Exp(mean: "1ms")),
    },
)
"#;

/// The one problem of `e`, which must be a validation error.
#[track_caller]
fn only_problem(e: &LoadError) -> &Problem {
    assert!(matches!(e, LoadError::Invalid { .. }), "{e:?}");
    assert_eq!(e.problems().len(), 1, "{e}");
    &e.problems()[0]
}

#[test]
fn an_override_is_refused_with_the_message_the_file_gets() {
    // `workers: 0` written in the file, and the same value set by an override of the valid
    // file: the same path and words; the file's line gives way to the override's text.
    let in_file =
        microsim::parse(&SHOP.replace("workers: 8", "workers: 0"), "shop.ron").unwrap_err();
    let model = microsim::parse(SHOP, "shop.ron").unwrap();
    let edit: microsim::spec::overrides::Override = "services[api].workers=0".parse().unwrap();
    let by_override = model.with_overrides(&[edit]).unwrap_err();
    let (file, set) = (only_problem(&in_file), only_problem(&by_override));
    assert_eq!((&file.path, &file.message), (&set.path, &set.message));
    assert_eq!(file.line, Some(line_of(SHOP, "workers: 8")));
    assert_eq!(set.line, None);
    assert_eq!(
        in_file.to_string(),
        "shop.ron: 1 problem found:\n  - shop.ron:5: services[api].workers: workers must be at least 1 (a service without workers never answers)"
    );
    assert_eq!(
        by_override.to_string(),
        in_file
            .to_string()
            .replace("shop.ron", "shop.ron [services[api].workers=0]")
            .replace("workers=0]:5:", "workers=0]:")
    );
    // The model edited is unchanged, and a good value makes a new model.
    assert_eq!(model.service("api").map(|s| s.workers), Some(8));
    let two = model
        .with_overrides(&["services[api].workers=2".parse().unwrap()])
        .unwrap();
    assert_eq!(two.service("api").map(|s| s.workers), Some(2));
    assert_eq!(two.origin(), "shop.ron [services[api].workers=2]");
}

#[test]
fn an_override_places_each_problem_where_the_user_can_find_it() {
    let model = microsim::parse(SHOP, "shop.ron").unwrap();
    let set = |edit: &str| model.with_overrides(&[edit.parse().unwrap()]).unwrap_err();
    // A problem that the edit causes elsewhere keeps its line in the file: a shorter run
    // makes the file's warm-up too long, at the warm-up's line.
    let e = set("run.duration=1s");
    let p = only_problem(&e);
    assert_eq!(p.path, "run.warmup");
    assert_eq!(p.line, Some(line_of(SHOP, "run: (")));
    assert_eq!(
        p.message,
        "the warm-up (2s) must be shorter than the run (1s); nothing would be measured"
    );
    // A value of the wrong type (a syntax error of the edited text, which the user never
    // saw) is a problem at the override's path, in the parser's words, without a line.
    let e = set("services[api].workers=lots");
    let p = only_problem(&e);
    assert_eq!(p.path, "services[api].workers");
    assert_eq!(p.line, None);
    let in_file = microsim::parse(
        &SHOP.replace("workers: 8", r#"workers: "lots""#),
        "shop.ron",
    )
    .unwrap_err();
    let LoadError::Syntax { message, .. } = &in_file else {
        panic!("expected a syntax error, got {in_file:?}");
    };
    assert_eq!(message, &format!("services[api].workers: {}", p.message));
    // A step replaced by an override is checked as the file's steps are, at its own path.
    let e = set(r#"services[api].steps[0]=Call(to: "dbb")"#);
    let p = only_problem(&e);
    assert_eq!(
        (p.path.as_str(), p.line),
        ("services[api].steps[0].to", None)
    );
    assert!(
        p.text()
            .contains("unknown service `dbb`; did you mean `db`?"),
        "{e}"
    );
}

#[test]
fn a_variant_and_the_builder_refuse_a_bad_value_as_the_file_does() {
    use microsim::builder::{Entry, Exp, Poisson, Service, Topology};
    let shop = |workers: u32| {
        Topology::new("shop")
            .entry(Entry::service("main", "api", Poisson::per_second(10)))
            .service("api", Service::new().workers(workers).work(Exp::mean_ms(1)))
    };
    let built = shop(0).build().unwrap_err();
    let p = only_problem(&built);
    assert_eq!(p.path, "services[api].workers");
    assert_eq!(
        p.message,
        "workers must be at least 1 (a service without workers never answers)"
    );
    // A variant that sets it is refused when the topology is built, at the variant.
    let e = shop(8)
        .variant("none", ["services[api].workers=0"])
        .build()
        .unwrap_err();
    let p = only_problem(&e);
    assert_eq!(p.path, "variants[none]");
    assert!(
        p.message
            .contains("services[api].workers: workers must be at least 1"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// the runner (RunError)

#[test]
fn saturated_model_hits_the_in_flight_cap() {
    // ρ = 2 with an unbounded queue: requests pile up at `server` without end.
    let text = r#"Topology(
    run: (duration: "1h", max_in_flight: 1000),
    workload: [(name: "main", entry: "server", arrivals: Poisson(per_second: 2000))],
    services: { "server": (workers: 1, work: Exp(mean: "1ms")) },
)"#;
    let model = microsim::parse(text, "t.ron").unwrap();
    let err = model.run(&RunOptions::default()).unwrap_err();
    let RunError::InFlightCap {
        at_s,
        in_flight,
        cap,
        ref service,
        at_service,
    } = err
    else {
        panic!("expected the in-flight cap, got {err:?}");
    };
    assert_eq!(cap, 1000);
    assert_eq!(service, "server");
    assert!(in_flight > 1000, "{err}");
    assert!(at_service > 1000, "{err}");
    // About 1000 extra requests at 1000/s net growth: ~1 s, far before the hour ends.
    assert!(at_s > 0.2 && at_s < 5.0, "{err}");
    let shown = err.to_string();
    for w in [
        "run.max_in_flight = 1000",
        "service `server`",
        "queue: N",
        "lower the load",
    ] {
        assert!(shown.contains(w), "lacks `{w}`: {shown}");
    }
}

#[test]
fn in_flight_cap_names_the_bottleneck_not_its_callers() {
    // `api` has plenty of workers; `db` (ρ = 3) is where requests wait for a worker. Every
    // waiting db request also keeps its api request alive, but the work piles up at db.
    let text = r#"Topology(
    run: (duration: "1h", max_in_flight: 2000),
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 3000))],
    services: {
        "api": (workers: 100000, work: Exp(mean: "1us"), steps: [Call(to: "db")]),
        "db": (workers: 1, work: Exp(mean: "1ms")),
    },
)"#;
    let model = microsim::parse(text, "t.ron").unwrap();
    match model.run(&RunOptions::default()) {
        Err(RunError::InFlightCap { service, .. }) => assert_eq!(service, "db"),
        other => panic!("expected the in-flight cap, got {other:?}"),
    }
}

#[test]
fn zeno_guard_names_the_queue_the_service_and_what_to_change() {
    // Every message fails in zero time and is requeued at once: time stands still.
    let text = r#"Topology(
    run: (duration: "1h", max_events_per_instant: 20000),
    workload: [(name: "main", send: "jobs", arrivals: Constant(per_second: 100))],
    services: { "worker": (errors: 1.0) },
    queues: { "jobs": (service: "worker") },
)"#;
    let model = microsim::parse(text, "t.ron").unwrap();
    let err = model.run(&RunOptions::default()).unwrap_err();
    let RunError::ZenoGuard {
        at_s,
        cap,
        ref going_round,
        ref advice,
    } = err
    else {
        panic!("expected the Zeno guard, got {err:?}");
    };
    assert_eq!(cap, 20_000);
    // The first message arrives at 10 ms and never leaves that instant.
    assert_eq!(at_s, 0.01, "{err}");
    assert!(going_round.contains("work queue `jobs`"), "{err}");
    assert!(going_round.contains("failed"), "{err}");
    assert!(going_round.contains("service `worker`"), "{err}");
    for w in [
        "retry_delay",
        "max_receives",
        "raise run.max_events_per_instant",
    ] {
        assert!(advice.contains(w), "lacks `{w}`: {err}");
    }
    let shown = err.to_string();
    for w in [
        "run stopped at 0.010s",
        "run.max_events_per_instant = 20000",
        "work queue `jobs`",
        "Messages of work queue `jobs` fail and come back at once",
    ] {
        assert!(shown.contains(w), "lacks `{w}`: {shown}");
    }
}

#[test]
fn zeno_guard_cap_from_the_run_options() {
    let text = r#"Topology(
    workload: [(name: "main", send: "jobs", arrivals: Constant(per_second: 100))],
    services: { "worker": (errors: 1.0) },
    queues: { "jobs": (service: "worker") },
)"#;
    let model = microsim::parse(text, "t.ron").unwrap();
    let options = RunOptions {
        max_events_per_instant: Some(5_000),
        ..RunOptions::default()
    };
    match model.run(&options) {
        Err(RunError::ZenoGuard { cap, .. }) => assert_eq!(cap, 5_000),
        other => panic!("expected the Zeno guard, got {other:?}"),
    }
    let zero = RunOptions {
        max_events_per_instant: Some(0),
        ..RunOptions::default()
    };
    let err = model.run(&zero).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid run option: run.max_events_per_instant: the cap on events at one instant must be at least 1 (every event counts)"
    );
    // The file's own message for the same value.
    let in_file = &problems(&with_run("max_events_per_instant: 0"))[0];
    assert_eq!(
        err.to_string(),
        format!("invalid run option: {}: {}", in_file.path, in_file.text())
    );
}

#[test]
fn bad_run_options() {
    // A run's options replace the file's `run:` settings and are checked by its rules: a
    // value the file could not hold gets the file's message, at the path of the setting.
    let model = microsim::parse(&with_run(r#"duration: "10s", warmup: "2s""#), "t.ron").unwrap();
    let file_says = |run: &str| {
        let p = &problems(&with_run(run))[0];
        format!("invalid run option: {}: {}", p.path, p.text())
    };
    let zero = RunOptions {
        duration: Some(SimDuration::ZERO),
        ..RunOptions::default()
    };
    let err = model.run(&zero).unwrap_err();
    assert!(matches!(err, RunError::BadOption(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid run option: run.duration: the run must last longer than 0"
    );
    assert_eq!(err.to_string(), file_says(r#"duration: "0s""#));
    // The file's 2 s warm-up does not fit in a 1 s run.
    let short = RunOptions {
        duration: Some(SimDuration::from_secs(1)),
        ..RunOptions::default()
    };
    let err = model.run(&short).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid run option: run.warmup: the warm-up (2s) must be shorter than the run (1s); nothing would be measured"
    );
    assert_eq!(
        err.to_string(),
        file_says(r#"duration: "1s", warmup: "2s""#)
    );
    let long_warmup = RunOptions {
        warmup: Some(SimDuration::from_secs(10)),
        ..RunOptions::default()
    };
    assert_eq!(
        model.run(&long_warmup).unwrap_err().to_string(),
        file_says(r#"duration: "10s", warmup: "10s""#)
    );
    // Every way to run checks them: the simulation, replications, a trace, and `resolve`
    // before any run.
    assert!(matches!(
        Simulation::new(&model, &long_warmup),
        Err(RunError::BadOption(_))
    ));
    assert!(microsim::run_seeds(&model, &long_warmup, &[1, 2])
        .iter()
        .all(|r| matches!(r, Err(RunError::BadOption(_)))));
    assert!(matches!(
        microsim::run_traced(&model, &long_warmup),
        Err(RunError::BadOption(_))
    ));
    assert_eq!(
        long_warmup.resolve(&model).unwrap_err().to_string(),
        file_says(r#"duration: "10s", warmup: "10s""#)
    );
    // Options that fit resolve to the settings the run uses.
    let fits = RunOptions {
        seed: Some(9),
        warmup: Some(SimDuration::from_secs(5)),
        ..RunOptions::default()
    };
    let run = fits.resolve(&model).unwrap();
    assert_eq!(
        (run.seed, run.duration, run.warmup),
        (9, SimDuration::from_secs(10), SimDuration::from_secs(5))
    );
}

#[test]
fn retry_storm_hits_the_in_flight_cap() {
    // Three layers retry three times each, with no budget: up to 27 attempts reach `leaf`
    // per request. `leaf` runs at ρ = 0.75 without retries, but its 30 ms timeout fails some
    // calls, their retries raise the load, which fails more calls: the storm feeds itself,
    // and every orphaned attempt waits in leaf's unbounded queue.
    let storm = |retry: &str| {
        format!(
            r#"Topology(
    run: (duration: "1m", max_in_flight: 2000),
    workload: [(name: "main", entry: "edge", arrivals: Poisson(per_second: 300))],
    services: {{
        "edge": (workers: 100000, steps: [Call(to: "api", timeout: "200ms"{retry})]),
        "api": (workers: 100000, steps: [Call(to: "mid", timeout: "100ms"{retry})]),
        "mid": (workers: 100000, steps: [Call(to: "leaf", timeout: "30ms"{retry})]),
        "leaf": (workers: 4, work: Exp(mean: "10ms")),
    }},
)"#
        )
    };
    let model = microsim::parse(&storm(", retry: (attempts: 3)"), "t.ron").unwrap();
    let err = model.run(&RunOptions::default()).unwrap_err();
    let RunError::InFlightCap {
        at_s,
        in_flight,
        cap,
        ref service,
        at_service,
    } = err
    else {
        panic!("expected the in-flight cap, got {err:?}");
    };
    assert_eq!(cap, 2000);
    assert_eq!(service, "leaf", "{err}");
    assert!(in_flight > 2000, "{err}");
    assert!(at_service > 1000, "{err}");
    assert!(at_s < 10.0, "{err}");
    let shown = err.to_string();
    for w in ["run.max_in_flight = 2000", "service `leaf`", "queue: N"] {
        assert!(shown.contains(w), "lacks `{w}`: {shown}");
    }
    // Without the retries, the same topology runs to the end.
    let calm = microsim::parse(&storm(""), "t.ron").unwrap();
    calm.run(&RunOptions::default()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Fuzz: random mutations of a valid topology never panic the loader or the engine

/// A valid topology using most of the format.
const BASE: &str = r#"// a fuzzing seed
Topology(
    name: "fuzz",
    run: (duration: "2s", warmup: "100ms", seed: 3, bucket: "250ms", max_in_flight: 500),
    workload: [
        (name: "web", entry: "gateway", timeout: "800ms",
         arrivals: Poisson(per_second: 40, profile: [
             (at: "500ms", per_second: 80, ramp: true),
             (at: "1s", per_second: 20),
         ])),
        (name: "batch", entry: "worker", arrivals: Constant(per_second: 5)),
    ],
    services: {
        "gateway": (
            replicas: 2, workers: 4, queue: 8, balancer: PowerOfTwo,
            work: Exp(mean: "1ms"),
            steps: [
                Call(to: "auth", timeout: "50ms", latency: Const("1ms")),
                Parallel(branches: [
                    [Call(to: "db", probability: 0.5, on_failure: Ignore)],
                    [Work(Uniform(min: "1ms", max: "3ms"))],
                ]),
                Choice(branches: [
                    (weight: 0.3, steps: [Call(to: "db", timeout: "200ms")]),
                    (weight: 0.7, steps: []),
                ], probability: 0.9),
            ],
        ),
        "auth": (replicas: 3, workers: 2, balancer: LeastOutstanding,
                 work: LogNormal(median: "2ms", p99: "20ms"), errors: 0.01),
        "db": (workers: 3, queue: 0, work: Gamma(mean: "5ms", cv: 0.5), errors: 0.001),
        "worker": (work: Empirical(["1ms", "2ms", "10ms"]), balancer: Random,
                   steps: [Call(to: "db")]),
    },
)
"#;

/// Characters worth inserting: RON punctuation, digits, number and duration letters, quotes,
/// comment starters, non-ASCII.
const CHARS: &[char] = &[
    '(', ')', '[', ']', '{', '}', ',', ':', '"', '\'', '#', '/', '*', '\\', '-', '+', '.', '0',
    '1', '9', 'e', 'E', 'n', 's', 'm', 'h', 'u', 'a', 'N', 'i', 'f', 'r', ' ', '\n', 'µ', '→',
    '\0',
];

/// Values worth substituting for a number literal.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "7",
    "100",
    "100000",
    "0.5",
    "-1",
    "1e308",
    "-1e308",
    "NaN",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "0.0000001",
    "1e-300",
    "\"1s\"",
    "",
];

/// Values worth substituting for a string literal (durations and service names).
const STRINGS: &[&str] = &[
    "\"0ms\"",
    "\"1ns\"",
    "\"10ms\"",
    "\"1s\"",
    "\"1h\"",
    "\"-1ms\"",
    "\"1e400s\"",
    "\"\"",
    "\"5\"",
    "\"9999999h\"",
    "\"gateway\"",
    "\"auth\"",
    "\"db\"",
    "\"worker\"",
    "\"nope\"",
    "\"web\"",
    "7",
    "",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, char),
    Replace(usize, char),
    /// Replace the k-th number or string literal by the v-th value of its kind.
    Literal(usize, usize),
    /// Copy a span of the text somewhere else.
    Duplicate(usize, usize, usize),
    /// Misspell the k-th field name in the v-th way (drop, double or swap letters, add one).
    Misspell(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Literal swaps mostly keep the text parseable, so they reach validation and the engine;
    // the character-level mutations mostly exercise the parser and its error positions.
    prop_oneof![
        1 => (any::<usize>(), 1..8usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<usize>(), prop::sample::select(CHARS))
            .prop_map(|(at, c)| Mutation::Insert(at, c)),
        1 => (any::<usize>(), prop::sample::select(CHARS))
            .prop_map(|(at, c)| Mutation::Replace(at, c)),
        8 => (any::<usize>(), any::<usize>()).prop_map(|(k, v)| Mutation::Literal(k, v)),
        1 => (any::<usize>(), 1..80usize, any::<usize>())
            .prop_map(|(at, n, to)| Mutation::Duplicate(at, n, to)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(k, v)| Mutation::Misspell(k, v)),
    ]
}

/// Byte spans of the field names of `text`: identifiers followed by `:`, outside strings.
fn field_names(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            i = text[i + 1..].find('"').map_or(b.len(), |e| i + e + 2);
        } else if b[i].is_ascii_alphabetic() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(b.len(), |e| i + e);
            if text[end..].trim_start().starts_with(':') {
                out.push((i, end));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// `name` misspelt in the `how`-th way.
fn misspell(name: &str, how: usize) -> String {
    let c: Vec<char> = name.chars().collect();
    let k = how / 4 % c.len();
    let mut out = c.clone();
    match how % 4 {
        0 if c.len() > 1 => {
            out.remove(k);
        }
        1 => out.insert(k, c[k]),
        2 if k + 1 < c.len() && c[k] != c[k + 1] => out.swap(k, k + 1),
        _ => out.push('x'),
    }
    out.into_iter().collect()
}

/// Byte spans of the number and string literals of `text`.
fn literals(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let end = text[i + 1..].find('"').map_or(b.len(), |e| i + e + 2);
            out.push((i, end));
            i = end;
        } else if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
                .map_or(b.len(), |e| i + e);
            out.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &mut String, m: &Mutation) {
    match *m {
        Mutation::Delete(at, n) => {
            let a = boundary(text, at);
            let b = boundary(text, a + n.min(text.len() - a));
            text.replace_range(a..b, "");
        }
        Mutation::Insert(at, c) => {
            let a = boundary(text, at);
            text.insert(a, c);
        }
        Mutation::Replace(at, c) => {
            let a = boundary(text, at);
            if let Some(old) = text[a..].chars().next() {
                text.replace_range(a..a + old.len_utf8(), c.encode_utf8(&mut [0; 4]));
            }
        }
        Mutation::Literal(k, v) => {
            let lits = literals(text);
            if !lits.is_empty() {
                let (a, b) = lits[k % lits.len()];
                let values = if text[a..].starts_with('"') {
                    STRINGS
                } else {
                    NUMBERS
                };
                text.replace_range(a..b, values[v % values.len()]);
            }
        }
        Mutation::Duplicate(at, n, to) => {
            let a = boundary(text, at);
            let b = boundary(text, a + n.min(text.len() - a));
            let span = text[a..b].to_string();
            let to = boundary(text, to);
            text.insert_str(to, &span);
        }
        Mutation::Misspell(k, v) => {
            let names = field_names(text);
            if !names.is_empty() {
                let (a, b) = names[k % names.len()];
                let wrong = misspell(&text[a..b], v);
                text.replace_range(a..b, &wrong);
            }
        }
    }
}

/// Loads `text` and, if it is valid, analyses it and runs it briefly. Must never panic.
fn exercise(text: &str) {
    let model = match microsim::parse(text, "fuzz.ron") {
        Ok(m) => m,
        Err(e) => {
            // Every error renders, names its place, and an invalid model lists at least one
            // problem.
            assert_names_places(&e, "fuzz.ron", text);
            return;
        }
    };
    let analysis = model.analyze();
    let _ = microsim::render::render_analysis(&model, &analysis);
    let options = RunOptions {
        duration: Some(SimDuration::from_millis(300)),
        warmup: Some(SimDuration::from_millis(50)),
        seed: None,
        drain: false,
        max_events_per_instant: None,
    };
    // A bounded number of events: a mutated rate can ask for billions of arrivals.
    let expected: f64 = model
        .entries()
        .iter()
        .map(|e| e.arrivals.peak_rate(0, 300_000_000) * 0.3)
        .sum();
    if expected < 2_000.0 {
        if let Ok(report) = model.run(&options) {
            let _ = microsim::render::render_summary(&report);
            let _ = report.to_json();
        }
    } else if let Ok(mut sim) = Simulation::new(&model, &options) {
        for _ in 0..20_000 {
            match sim.step() {
                Ok(true) => {}
                Ok(false) | Err(_) => break,
            }
        }
    }
}

/// Every message of `e` names `origin` and a line of `text` (a syntax error also a column),
/// as `origin:line:` at its start: one message for a syntax error, one a line for problems.
#[track_caller]
fn assert_names_places(e: &LoadError, origin: &str, text: &str) {
    let lines = text.lines().count().max(1);
    let shown = e.to_string();
    let line_of = |rest: &str| -> usize {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits
            .parse()
            .unwrap_or_else(|_| panic!("no line number in {shown:?}"))
    };
    match e {
        LoadError::Syntax { line, col, .. } => {
            let rest = shown
                .strip_prefix(&format!("{origin}:"))
                .unwrap_or_else(|| panic!("{shown:?} does not start with {origin}:"));
            assert_eq!(line_of(rest), *line);
            assert!(rest.starts_with(&format!("{line}:{col}: ")), "{shown:?}");
            assert!(
                (1..=lines + 1).contains(line),
                "line {line} of {lines}: {shown:?}"
            );
        }
        LoadError::Invalid { problems, .. } => {
            assert!(!problems.is_empty());
            let listed: Vec<&str> = shown.lines().skip(1).collect();
            assert_eq!(listed.len(), problems.len(), "{shown}");
            for (row, p) in listed.iter().zip(problems) {
                let line = p.line.unwrap_or_else(|| panic!("no line: {p:?}"));
                assert!((1..=lines).contains(&line), "line {line} of {lines}: {p:?}");
                // Line breaks in a quoted name are written `\n`, so that a problem keeps to
                // one line.
                let path = p.path.replace('\n', "\\n").replace('\r', "\\r");
                let prefix = format!("  - {origin}:{line}: {path}: ");
                assert!(row.starts_with(&prefix), "{row:?} lacks {prefix:?}");
            }
            // Problems come in file order.
            assert!(
                problems.windows(2).all(|w| w[0].line <= w[1].line),
                "{shown}"
            );
        }
        LoadError::Io { .. } => panic!("unexpected I/O error: {shown}"),
    }
}

#[test]
fn every_message_names_the_file_and_a_line() {
    // Reproducer: of 171,873 errors a fuzzer met, 9,537 named no line (invalid UTF-8, a
    // workload left out). One bad input per kind of message, each checked for `file:line`.
    let bad: Vec<String> = vec![
        String::new(),
        "   \n\n".into(),
        "Topology(".into(),
        "Topology(services: {\"a\": (workers: 2 queue: 3)})".into(),
        "Topology(services: {}, services: {})".into(),
        "Topology(services: {\"a\": (work: Expo(mean: \"1ms\"))})".into(),
        "Topology(workload: [(name: \"m\", entry: \"a\")], services: {\"a\": ()})".into(),
        "Topology(\n  services: {\"a\": (replica: 2, wrkers: 1)},\n  colour: 1,\n)".into(),
        "Topology(\n  services: {\"a\": (replica: 2)},\n  workload: [(name: \"m\", entry: \"a\", arival: Poisson(per_second: 1))],\n)".into(),
        "Topology(services: {\"a\": (nope: 1 workers: 2)})".into(),
        "Topology(services: {\"a\": (workers: -1)})".into(),
        "Topology(services: {\"a\": (work: Exp(mean: 3))})".into(),
        "// no workload\nTopology(services: {\"a\": ()})".into(),
        "Topology(workload: [], services: {})".into(),
        with_run(r#"duration: "3 fortnights""#),
        with_run(r#"duration: "200000d""#),
        with_workload(r#"        (name: "main", entry: "api", arrivals: Poisson(per_second: 1e12)),"#),
        with_services(r#"        "api": (steps: [Call(to: "api")]),"#),
        with_services(r#"        "api": (replicas: 0, errors: 2, steps: [Call(to: "nobody")]),"#),
        with_faults(r#"        (at: "2s", lasts: "0s", fault: Crash(service: "nobody")),"#),
        with_faults(r#"        (at: "2s", lasts: "1s", falt: Crash(service: "api")),"#),
        BASE.replace("balancer: PowerOfTwo", "balancer: PowerOf2"),
        BASE.replace("\"auth\": (", "\"auth\": (colour: 3, "),
        BASE.replace("weight: 0.3", "wieght: 0.3"),
    ];
    for text in &bad {
        let e = match microsim::parse(text, "bad.ron") {
            Err(e) => e,
            Ok(_) => panic!("accepted:\n{text}"),
        };
        assert_names_places(&e, "bad.ron", text);
    }
    // Invalid UTF-8, through the file loader.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("errors-utf8");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    std::fs::write(&file, b"Topology(\n  name: \"caf\xe9\",\n)").unwrap();
    let e = microsim::load(&file).unwrap_err();
    assert_names_places(
        &e,
        &file.display().to_string(),
        "Topology(\n  name: \"caf?\",\n)",
    );
}

#[test]
fn base_fuzz_topology_is_valid_and_runs() {
    let model = microsim::parse(BASE, "fuzz.ron").unwrap();
    let report = model.run(&RunOptions::default()).unwrap();
    assert!(report.entry("web").unwrap().offered > 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_topologies_never_panic(muts in prop::collection::vec(mutation(), 1..4)) {
        let mut text = BASE.to_string();
        for m in &muts {
            apply(&mut text, m);
        }
        exercise(&text);
    }

    /// Only numbers and strings change, so many cases parse and reach validation and the run.
    #[test]
    fn mutated_values_never_panic(
        muts in prop::collection::vec((any::<usize>(), any::<usize>()), 1..5),
    ) {
        let mut text = BASE.to_string();
        for &(k, v) in &muts {
            apply(&mut text, &Mutation::Literal(k, v));
        }
        exercise(&text);
    }

    /// Reproducer: a file with three typos reported only the first. Each misspelt field of
    /// a valid file is reported, at its line and path, with the name it was meant to have.
    #[test]
    fn every_misspelt_field_is_reported(picks in prop::collection::btree_set(any::<u16>(), 1..6)) {
        let names = field_names(BASE);
        let picked: std::collections::BTreeSet<usize> =
            picks.iter().map(|&k| usize::from(k) % names.len()).collect();
        let mut text = BASE.to_string();
        // Back to front, so that the spans still to change do not move.
        for &k in picked.iter().rev() {
            let (a, b) = names[k];
            text.insert(b, 'x');
            let _ = a;
        }
        let e = microsim::parse(&text, "fuzz.ron").unwrap_err();
        assert_names_places(&e, "fuzz.ron", &text);
        let unknown: Vec<&Problem> = e
            .problems()
            .iter()
            .filter(|p| p.message.starts_with("unknown field"))
            .collect();
        prop_assert_eq!(unknown.len(), picked.len(), "{}", e);
        for (&k, p) in picked.iter().zip(&unknown) {
            let (a, b) = names[k];
            let name = &BASE[a..b];
            prop_assert_eq!(p.line, Some(BASE[..a].matches('\n').count() + 1));
            prop_assert!(p.path == format!("{name}x") || p.path.ends_with(&format!(".{name}x")), "{:?}", p);
            prop_assert!(
                p.text() == format!("unknown field `{name}x`; did you mean `{name}`?"),
                "{:?}", p
            );
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        exercise(&text);
        exercise(&format!("Topology(services: {{{text}}})"));
    }
}

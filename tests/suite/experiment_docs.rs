//! Claims of docs/experiments.md that no other test checks: why one run prints no interval
//! (its binomial standard error is several times too narrow), and what Ctrl-C and the
//! progress bar do.

use crate::common::root;
use microsim::experiment::{run, Arm, Plan};
use microsim::stats::Estimate;
use microsim::RunOptions;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// checkout.ron, 10 replications at its own settings: the spread of the entry point's
/// availability across replications is several times the binomial standard error one run
/// reports (`availability_se`, √(p(1−p)/n) over its requests), because the requests of one
/// run fail together (a traffic spike rejects thousands in a row). An interval built on that
/// standard error would claim a precision the run does not have.
#[test]
fn one_runs_binomial_standard_error_is_several_times_too_narrow() {
    let model = microsim::load(root().join("topologies/checkout.ron")).unwrap();
    let plan = Plan {
        master_seed: model.run_config().seed,
        arms: vec![Arm {
            name: "base".into(),
            model,
        }],
        axes: vec![],
        reps: 10,
        options: RunOptions::default(),
        targets: vec![],
        recovery: Default::default(),
    };
    let r = run(&plan).unwrap();
    let cell = &r.cells[0];
    let spread = Estimate::from_samples(&cell.values("entries[shoppers].availability")).sd;
    let se = Estimate::from_samples(&cell.values("entries[shoppers].availability_se")).mean;
    let ratio = spread / se;
    println!("checkout availability: s.d. across replications {spread:.5}, binomial s.e. {se:.5}, ratio {ratio:.2}");
    // The sample s.d. of 10 values is itself uncertain: with 9 degrees of freedom its 95 %
    // range is about 0.69 to 1.83 times the true one, so a measured ratio above 3 means a
    // true ratio above 1.6 — well beyond what the binomial formula allows (1).
    assert!(ratio > 3.0, "ratio {ratio}");
}

/// Whether process `pid` has a handler for SIGINT installed (Linux: the SigCgt mask of
/// /proc/PID/status, bit 1 for signal 2).
fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 1) != 0)
}

/// Ctrl-C during an experiment: the runs that have started finish, the others are skipped,
/// the command says how many had finished, writes nothing and exits with 130. With standard
/// error not a terminal there is no progress bar: that one line is all it writes there.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_cleanly_says_what_finished_and_writes_nothing() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ctrl-c");
    let _ = std::fs::remove_dir_all(&dir);
    // 400 runs of 10 simulated minutes of a retry storm: minutes of work on one thread.
    let child = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args([
            "run",
            "topologies/retry-storm.ron",
            "--reps",
            "400",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&dir)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    while !catches_sigint(pid) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no SIGINT handler after 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let a few runs finish first.
    std::thread::sleep(Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = Instant::now();
    let out = child.wait_with_output().unwrap();
    let waited = stopped.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // Only the run in progress is waited for (one run: well under a minute even here).
    assert!(waited < Duration::from_secs(60), "{waited:?}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let done: u64 = lines[0]
        .strip_prefix("interrupted: ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        lines[0].ends_with(&format!(
            "{done} of 400 runs had finished; nothing was written"
        )),
        "{stderr}"
    );
    assert!(done < 400, "{stderr}");
    assert!(!dir.exists(), "{} was written", dir.display());
}

/// A run of more than a second (12 replications of the storm on one thread: about three
/// seconds on a quiet machine) with standard error a pipe: nothing on it (no progress bar),
/// the result on standard output.
#[test]
fn no_progress_bar_when_standard_error_is_not_a_terminal() {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_microsim"))
        .args([
            "run",
            "topologies/retry-storm.ron",
            "--reps",
            "12",
            "--threads",
            "1",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(out.status.success());
    // The bar would appear after a second; the run must last that long for this to mean
    // anything.
    assert!(took > Duration::from_millis(1200), "{took:?}: too short");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("12 replications"));
}

//! The experiment commands as a user runs them: `run --reps`, `compare`, `sweep`, `--shard`
//! and `merge`, their tables, files and mistakes.

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

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("experiment-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
}

/// Three shards run as separate processes, merged: the same result.json as one process.
#[test]
fn shards_merge_to_the_unsharded_result_byte_for_byte() {
    let dir = scratch("shards");
    let args = |extra: &[&str]| {
        let mut a = vec![
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
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let whole = dir.join("whole");
    let a = args(&["--out", whole.to_str().unwrap()]);
    ok(&microsim(&a.iter().map(String::as_str).collect::<Vec<_>>()));
    let mut files = Vec::new();
    for i in 0..3 {
        let f = dir.join(format!("shard{i}.json"));
        // The index from the scheduler's environment, as in a Slurm array job.
        let a = args(&["--shard", "3", "--out", f.to_str().unwrap()]);
        let out = ok(&microsim_env(
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
            &[("SLURM_ARRAY_TASK_ID", &i.to_string())],
        ));
        assert!(out.contains(&format!("wrote shard {i}/3")), "{out}");
        files.push(f);
    }
    let merged = dir.join("merged");
    let mut m = vec!["merge".to_string()];
    m.extend(files.iter().rev().map(|f| f.display().to_string()));
    m.extend(["--out".to_string(), merged.display().to_string()]);
    ok(&microsim(&m.iter().map(String::as_str).collect::<Vec<_>>()));
    let a = std::fs::read(whole.join("result.json")).unwrap();
    let b = std::fs::read(merged.join("result.json")).unwrap();
    assert!(a == b, "merged result.json differs from the unsharded one");
    // A missing shard is refused, naming it.
    let err = error(&microsim(&[
        "merge",
        files[0].to_str().unwrap(),
        "--out",
        dir.join("bad").to_str().unwrap(),
    ]));
    assert!(err.contains("shard 1/3 is missing"), "{err}");
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

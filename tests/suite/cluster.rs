//! The cluster scripts of docs/cluster.md: the Slurm array script run as its tasks would run
//! it (separate processes with the environment Slurm gives them), merged to the unsharded
//! result; and the Slurm script and the Kubernetes manifest agreeing on the bundled sweep and
//! its number of shards. (`scripts/slurm-check.sh` submits the same script to a real
//! one-node Slurm.)

use crate::common::root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCRIPT: &str = "scripts/cluster/sweep.sbatch";

/// A fresh, empty directory `target/tmp/cluster/<name>`.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch("cluster", name)
}

/// Runs the array script as task `index` of `count`, writing to `shards`.
fn task(
    index: u32,
    count: u32,
    shards: &Path,
    extra_env: &[(&str, &str)],
    args: &[&str],
) -> Output {
    let mut c = Command::new("bash");
    c.arg(SCRIPT)
        .args(args)
        .current_dir(root())
        .env("MICROSIM", env!("CARGO_BIN_EXE_microsim"))
        .env("SHARDS", shards)
        .env("SLURM_ARRAY_TASK_ID", index.to_string())
        .env("SLURM_ARRAY_TASK_COUNT", count.to_string())
        .env_remove("SLURM_ARRAY_TASK_MIN")
        .env_remove("SLURM_ARRAY_TASK_MAX")
        .env_remove("SLURM_CPUS_PER_TASK");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().expect("bash runs")
}

#[test]
fn the_array_script_shards_merge_to_the_one_process_result() {
    let dir = scratch("array");
    let sweep = [
        "sweep",
        "topologies/mm1.ron",
        "--vary",
        "workload[clients].arrivals.per_second=300,500",
        "--reps",
        "3",
        "--duration",
        "10s",
        "--warmup",
        "1s",
    ];
    let shards = dir.join("shards");
    for i in 0..4 {
        let o = task(i, 4, &shards, &[], &sweep);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "task {i}: {out}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.contains(&format!("wrote shard {i}/4")), "{out}");
    }
    let exe = env!("CARGO_BIN_EXE_microsim");
    let whole = dir.join("whole");
    let o = Command::new(exe)
        .args(sweep)
        .args(["--quiet", "--out"])
        .arg(&whole)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&shards)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 4);
    let merged = dir.join("merged");
    let o = Command::new(exe)
        .arg("merge")
        .args(&files)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = std::fs::read(whole.join("result.json")).unwrap();
    let b = std::fs::read(merged.join("result.json")).unwrap();
    assert!(
        a == b,
        "the merged shards differ from the one-process result"
    );
}

#[test]
fn the_array_script_refuses_an_array_that_does_not_start_at_0() {
    let dir = scratch("range");
    // --array=1-4: four tasks, but shard indices run 0-3.
    let o = task(
        1,
        4,
        &dir,
        &[("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_MAX", "4")],
        &["run", "topologies/mm1.ron", "--reps", "2"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("shards need 0-3"), "{err}");
    // Not in an array at all.
    let o = Command::new("bash")
        .arg(SCRIPT)
        .current_dir(root())
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("sbatch --array"), "{err}");
}

/// The words of the bundled sweep's command line in `text`, from `sweep` to the `--target`
/// value, quotes removed.
fn sweep_words(text: &str) -> Vec<String> {
    let start = text
        .find("sweep topologies/retry-storm.ron")
        .expect("the bundled sweep");
    let end = start
        + text[start..]
            .find("availability>=0.99")
            .expect("its target");
    text[start..end + "availability>=0.99".len()]
        .split_whitespace()
        .filter(|w| *w != "\\")
        .map(|w| w.replace('\'', ""))
        .collect()
}

#[test]
fn slurm_and_kubernetes_run_the_same_sweep_in_16_shards() {
    let sbatch = std::fs::read_to_string(root().join(SCRIPT)).unwrap();
    let job = std::fs::read_to_string(root().join("scripts/cluster/sweep-job.yaml")).unwrap();
    assert_eq!(sweep_words(&sbatch), sweep_words(&job));
    assert!(sbatch.contains("#SBATCH --array=0-15\n"));
    assert!(job.contains("completionMode: Indexed\n"));
    assert!(job.contains("completions: 16\n"));
    assert!(job.contains("--shard 16 "));
    assert!(job.contains("--out /results/shard-$JOB_COMPLETION_INDEX.json"));
    // The sweep itself is valid: every point compiles.
    let words = sweep_words(&sbatch);
    let axes: Vec<microsim::experiment::Axis> = words
        .windows(2)
        .filter(|w| w[0] == "--vary")
        .map(|w| microsim::experiment::Axis::parse(&w[1]).unwrap())
        .collect();
    assert_eq!(
        axes.iter().map(|a| a.values.len()).collect::<Vec<_>>(),
        [10, 4]
    );
    let model = microsim::load(root().join("topologies/retry-storm.ron")).unwrap();
    for a in &axes {
        for v in &a.values {
            let o = microsim::spec::overrides::Override::new(a.path.clone(), v.clone());
            model
                .with_overrides(&[o])
                .unwrap_or_else(|e| panic!("{}={v}: {e}", a.path));
        }
    }
}

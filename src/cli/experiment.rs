//! `run --reps`, `compare`, `sweep` and `merge`: the experiment commands. They build a
//! [`Plan`], run it (or one shard of it) with a progress bar, and print or write the result.

use super::progress::Progress;
use super::{emit, fail, load, run_options, RunArgs};
use clap::Args;
use microsim::chart::experiment::render_experiment_charts;
use microsim::experiment::{
    from_json, run_shard, to_json, Arm, Axis, ExperimentError, ExperimentResult, Partial, Plan,
    RecoverySpec, Shard, Target, Watch,
};
use microsim::render::experiment::{
    render_comparison, render_csv, render_replications, render_sweep,
};
use microsim::render::render_experiment_html;
use microsim::spec::overrides::Override;
use microsim::time::parse_duration;
use microsim::Model;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Options every experiment command takes.
#[derive(Args, Debug, Clone)]
pub struct ExperimentArgs {
    /// Threads to run replications on (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run one slice of the jobs: `I/N` (0-based), or `N` alone to read I from
    /// SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX. `--out FILE`
    /// then writes the shard's partial result, for `microsim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Change the topology (every arm of an experiment): PATH=VALUE, e.g.
    /// services[payment].steps[0].timeout=300ms (repeatable; the same paths as error messages).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Availability that counts as recovered after the last fault (default 0.99).
    #[arg(long, value_name = "FRACTION")]
    pub recovery_threshold: Option<f64>,
    /// Measure recovery from this instant (e.g. 3m) instead of the end of the last fault.
    #[arg(long, value_name = "TIME")]
    pub recovery_from: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Also write the results as CSV to this file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// What kind of table to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `run --reps`.
    Replications,
    /// `compare`.
    Comparison,
    /// `sweep`.
    Sweep,
}

/// The overrides of `--set`.
fn overrides(set: &[String]) -> Result<Vec<Override>, ExitCode> {
    set.iter()
        .map(|s| {
            s.parse::<Override>()
                .map_err(|e| fail(format!("--set {e}")))
        })
        .collect()
}

/// `model` with `--set` applied.
fn with_set(model: Model, set: &[Override]) -> Result<Model, ExitCode> {
    if set.is_empty() {
        return Ok(model);
    }
    model.with_overrides(set).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

/// `model` with the `--set` edits of a single run (no `--reps`): the same paths and checks as
/// an experiment's.
pub fn apply_set(model: Model, set: &[String]) -> Result<Model, ExitCode> {
    with_set(model, &overrides(set)?)
}

/// Refuses the experiment flags a single run has no use for, so that none is silently
/// ignored: `--threads`, `--csv`, `--recovery-threshold` and `--recovery-from` need
/// replications.
pub fn refuse_experiment_flags(args: &ExperimentArgs) -> Result<(), ExitCode> {
    let given = [
        ("--threads", args.threads.is_some()),
        ("--csv", args.csv.is_some()),
        ("--recovery-threshold", args.recovery_threshold.is_some()),
        ("--recovery-from", args.recovery_from.is_some()),
    ];
    match given.iter().find(|(_, on)| *on) {
        Some((flag, _)) => Err(fail(format!(
            "{flag} applies to experiments: add --reps N (one run has no replications to \
             spread over threads, tabulate or measure recovery across)"
        ))),
        None => Ok(()),
    }
}

/// The arms of `compare`: two or more files, or one file's variants (`base` first unless
/// `--variants` names them).
pub fn compare_arms(files: &[PathBuf], variants: Option<&str>) -> Result<Vec<Arm>, ExitCode> {
    if files.is_empty() {
        return Err(fail(
            "compare needs a topology file with variants, or two files or more",
        ));
    }
    if files.len() > 1 {
        if variants.is_some() {
            return Err(fail(
                "--variants applies to one file; give one file, or files without --variants",
            ));
        }
        return files
            .iter()
            .map(|f| {
                let model = load(f)?;
                let name = f.file_stem().map_or_else(
                    || f.display().to_string(),
                    |s| s.to_string_lossy().into_owned(),
                );
                Ok(Arm { name, model })
            })
            .collect();
    }
    let base = load(&files[0])?;
    arms_of_variants(base, variants, true)
}

/// The arms of one model: those `names` lists (`base` allowed), else `base` and its
/// variants — or its variants alone when one of them has no edits: that one names the file
/// as written (`"sync": {}`), so `base` would only repeat it.
fn arms_of_variants(
    base: Model,
    names: Option<&str>,
    need_two: bool,
) -> Result<Vec<Arm>, ExitCode> {
    let declared = base.variants().iter().map(|v| v.name.clone());
    let names: Vec<String> = match names {
        Some(list) => list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        None if base.variants().iter().any(|v| v.overrides.is_empty()) => declared.collect(),
        None => std::iter::once("base".to_string())
            .chain(declared)
            .collect(),
    };
    if need_two && names.len() < 2 {
        return Err(fail(format!(
            "{} declares no variants to compare; add `variants:` to it, list them with --variants base,NAME, or give two files",
            base.origin()
        )));
    }
    names
        .into_iter()
        .map(|name| {
            let model = if name == "base" {
                base.clone()
            } else {
                base.variant(&name).map_err(|e| {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                })?
            };
            Ok(Arm { name, model })
        })
        .collect()
}

/// The arms of `sweep` or `run --reps`: the file, or its variants given by `--variants`.
pub fn single_arms(file: &Path, variants: Option<&str>) -> Result<Vec<Arm>, ExitCode> {
    let base = load(&file.to_path_buf())?;
    match variants {
        Some(_) => arms_of_variants(base, variants, false),
        None => Ok(vec![Arm {
            name: "base".into(),
            model: base,
        }]),
    }
}

/// Builds the plan, runs it (or its shard) and prints or writes the result.
/// `reps` replications per cell; `out` is a directory for the result, or with `--shard` the
/// shard's partial result file.
#[allow(clippy::too_many_arguments)]
pub fn run_experiment(
    kind: Kind,
    arms: Vec<Arm>,
    axes: Vec<Axis>,
    targets: Vec<Target>,
    reps: u32,
    out: Option<&Path>,
    run: &RunArgs,
    args: &ExperimentArgs,
) -> ExitCode {
    let set = match overrides(&args.set) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let mut with = Vec::with_capacity(arms.len());
    for a in arms {
        match with_set(a.model, &set) {
            Ok(model) => with.push(Arm {
                name: a.name,
                model,
            }),
            Err(c) => return c,
        }
    }
    let options = match run_options(run) {
        Ok(o) => o,
        Err(c) => return c,
    };
    if reps == 0 {
        return fail("--reps must be at least 1");
    }
    let mut recovery = RecoverySpec::default();
    if let Some(t) = args.recovery_threshold {
        if !(0.0..=1.0).contains(&t) {
            return fail(format!(
                "--recovery-threshold {t}: give a fraction between 0 and 1"
            ));
        }
        recovery.threshold = t;
    }
    if let Some(from) = &args.recovery_from {
        match parse_duration(from) {
            Ok(d) => recovery.from_s = Some(d.as_secs_f64()),
            Err(e) => return fail(format!("--recovery-from: {e}")),
        }
    }
    let master_seed = run.seed.unwrap_or_else(|| with[0].model.run_config().seed);
    let plan = Plan {
        arms: with,
        axes,
        reps,
        master_seed,
        options: microsim::RunOptions {
            seed: None,
            ..options
        },
        targets,
        recovery,
    };
    let shard = match &args.shard {
        None => None,
        Some(text) => match Shard::parse(text, |v| std::env::var(v).ok()) {
            Ok(s) => Some(s),
            Err(e) => return fail(format!("--shard {e}")),
        },
    };
    let partial = match execute(&plan, shard.unwrap_or(Shard::ALL), args) {
        Ok(p) => p,
        Err(c) => return c,
    };
    if let Some(s) = shard {
        let Some(file) = out else {
            return fail("--shard needs --out FILE to write the shard's partial result to");
        };
        if let Err(e) = std::fs::write(file, to_json(&partial)) {
            return fail(format!("cannot write {}: {e}", file.display()));
        }
        return emit(&format!(
            "wrote shard {}/{} ({} runs) to {}; `microsim merge` all {} shard files for the result\n",
            s.index,
            s.count,
            partial.cells.iter().map(|c| c.runs.len()).sum::<usize>(),
            file.display(),
            s.count
        ));
    }
    match ExperimentResult::merge(&[partial]) {
        Ok(result) => finish(kind, &result, out, args.csv.as_deref()),
        Err(e) => fail(e),
    }
}

/// Runs the jobs of `shard` with a progress bar and Ctrl-C handling.
fn execute(plan: &Plan, shard: Shard, args: &ExperimentArgs) -> Result<Partial, ExitCode> {
    let total = (0..plan.jobs()).filter(|&j| shard.has(j)).count() as u64;
    let progress = Progress::new(total, args.quiet);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // A second handler cannot be installed; a failure only means Ctrl-C kills at once.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed));
    }
    let done = |n: u64, _total: u64| progress.set(n);
    let watch = Watch {
        done: &done,
        stop: &stop,
    };
    let result = run_shard(plan, shard, args.threads.unwrap_or(0), &watch);
    progress.finish();
    result.map_err(|e| match e {
        ExperimentError::Interrupted { .. } => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        ExperimentError::Load(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        e => fail(e),
    })
}

/// Prints the tables of `result` and writes what `--out` and `--csv` ask for.
fn finish(
    kind: Kind,
    result: &ExperimentResult,
    out: Option<&Path>,
    csv: Option<&Path>,
) -> ExitCode {
    let text = match kind {
        Kind::Replications => render_replications(result),
        Kind::Comparison => render_comparison(result),
        Kind::Sweep => render_sweep(result),
    };
    let mut lines = text;
    if let Some(file) = csv {
        if let Err(e) = std::fs::write(file, render_csv(result)) {
            return fail(format!("cannot write {}: {e}", file.display()));
        }
        lines.push_str(&format!("wrote {}\n", file.display()));
    }
    if let Some(dir) = out {
        match write_dir(dir, result) {
            Ok(line) => lines.push_str(&line),
            Err(msg) => return fail(msg),
        }
    }
    emit(&lines)
}

/// Writes DIR/result.json, DIR/results.csv, every experiment chart (DIR/*.svg) and the
/// experiment page DIR/index.html, all drawn from `result` alone, so that `merge` writes the
/// same files as the unsharded run. Returns the line to print, or an error naming the path
/// that could not be written.
pub fn write_dir(dir: &Path, result: &ExperimentResult) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, contents: &str| {
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("result.json", &result.to_json())?;
    write("results.csv", &render_csv(result))?;
    let charts = render_experiment_charts(result);
    for c in &charts {
        write(&c.file, &c.svg)?;
    }
    write("index.html", &render_experiment_html(result, &charts))?;
    // The directory on a line of its own: the list of files stays within 100 columns.
    Ok(format!(
        "wrote to {}:\n  index.html (the page), result.json, results.csv and {} chart{} (*.svg)\n",
        dir.display(),
        charts.len(),
        if charts.len() == 1 { "" } else { "s" },
    ))
}

/// `microsim merge SHARDS… --out DIR`.
pub fn merge(files: &[PathBuf], out: &Path, csv: Option<&Path>) -> ExitCode {
    let mut partials = Vec::with_capacity(files.len());
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return fail(format!("cannot read {}: {e}", f.display())),
        };
        match from_json::<Partial>(&text) {
            Ok(p) => partials.push(p),
            Err(e) => return fail(format!("{}: not a microsim shard file: {e}", f.display())),
        }
    }
    let result = match ExperimentResult::merge(&partials) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let kind = if !result.header.axes.is_empty() {
        Kind::Sweep
    } else if result.header.arms.len() > 1 {
        Kind::Comparison
    } else {
        Kind::Replications
    };
    finish(kind, &result, Some(out), csv)
}

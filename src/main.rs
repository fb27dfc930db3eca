//! The `microsim` command line: `run` a topology file, `check` it without simulating, or
//! draw the `chart`s and HTML report of a saved `report.json` again.
//!
//! Exit codes: 0 success; 2 the input was invalid, the run failed or a file could not be
//! written.

mod cli;

use clap::{Parser, Subcommand};
use cli::experiment::{
    apply_set, compare_arms, merge, refuse_experiment_flags, run_experiment, single_arms,
    ExperimentArgs, Kind,
};
use cli::RunArgs;
use microsim::chart::render_all;
use microsim::experiment::{Axis, Target};
use microsim::render::{render_html, render_summary_with, SummaryOptions};
use microsim::report::SCHEMA_VERSION;
use microsim::time::parse_duration;
use microsim::{LoadError, Report, RunOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Simulate microservice topologies on a virtual clock.
#[derive(Parser, Debug)]
#[command(name = "microsim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a topology and print a summary (or JSON).
    Run {
        /// The topology file (RON).
        file: PathBuf,
        /// Seed of every random stream (default: the file's `run.seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Simulated duration, e.g. 10m (default: the file's `run.duration`).
        #[arg(long)]
        duration: Option<String>,
        /// Warm-up excluded from statistics, e.g. 30s (default: the file's `run.warmup`).
        #[arg(long)]
        warmup: Option<String>,
        /// Stop arrivals at the end of the duration, then run until every request has ended.
        #[arg(long)]
        drain: bool,
        /// Print the report as JSON instead of the summary.
        #[arg(long)]
        json: bool,
        /// Print the summary's tables one line per row however wide (by default they are
        /// split to fit 100 columns), with the timeline's rows of zeros.
        #[arg(long)]
        wide: bool,
        /// Also write DIR/report.json, every chart (DIR/*.svg) and the HTML report
        /// DIR/index.html (DIR is created if missing). With --reps: DIR/result.json,
        /// DIR/results.csv, the experiment's charts and page (docs/experiments.md); with
        /// --shard: FILE, the shard's partial result.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Run N independent replications (seeds derived from --seed) and print every figure
        /// with its 95 % confidence interval across them.
        #[arg(long, value_name = "N")]
        reps: Option<u32>,
        /// With --reps: run these variants of the file (comma-separated; `base` is the file).
        #[arg(long, value_name = "A,B")]
        variants: Option<String>,
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
    /// Compare variants of a topology (its `variants:`, or --variants) or several files,
    /// replication by replication with the same seeds; paired differences with 95 % CIs.
    Compare {
        /// One topology file with variants, or two files or more.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The variants to compare, comma-separated (`base` is the file as written;
        /// default: base and every variant, or every variant alone when one of them has no
        /// edits and so names the file as written). The first is the baseline.
        #[arg(long, value_name = "A,B")]
        variants: Option<String>,
        /// Replications per arm.
        #[arg(long, default_value_t = 10, value_name = "N")]
        reps: u32,
        /// Write DIR/result.json, DIR/results.csv, every chart (DIR/*.svg) and the page
        /// DIR/index.html (with --shard: FILE, the partial result).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
    /// Sweep one or two parameters (a grid); each point with replications; mark where
    /// targets break.
    Sweep {
        /// The topology file (RON).
        file: PathBuf,
        /// A parameter and its values: PATH=100..1000:100 (a range with a step, numbers or
        /// durations) or PATH=1,2,4,8; once or twice.
        #[arg(long, required = true, value_name = "PATH=VALUES")]
        vary: Vec<String>,
        /// A target each point should meet, e.g. 'availability>=0.999' or 'p99<=200ms'
        /// (repeatable); the first point where one breaks is its knee.
        #[arg(long, value_name = "CONDITION")]
        target: Vec<String>,
        /// Sweep these variants of the file (comma-separated; `base` is the file).
        #[arg(long, value_name = "A,B")]
        variants: Option<String>,
        /// Replications per point.
        #[arg(long, default_value_t = 10, value_name = "N")]
        reps: u32,
        /// Write DIR/result.json, DIR/results.csv, every chart (DIR/*.svg) and the page
        /// DIR/index.html (with --shard: FILE, the partial result).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        experiment: ExperimentArgs,
    },
    /// Merge the shard files of a sharded run, compare or sweep into the whole result,
    /// exactly as one process would have computed it.
    Merge {
        /// Every shard file (`--shard I/N --out FILE`), in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Where to write result.json, results.csv, the charts and index.html: the same
        /// files as the unsharded run.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also write the results as CSV to this file.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
    },
    /// Draw the charts and the HTML report (DIR/index.html) of a saved report.json again.
    Chart {
        /// A report written by `microsim run --out` or `--json`.
        report: PathBuf,
        /// Where to write the charts and index.html (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Validate a topology, print the analytic shadow and lints; exit 2 if invalid.
    Check {
        /// The topology file (RON).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            file,
            seed,
            duration,
            warmup,
            drain,
            json,
            out,
            reps,
            variants,
            experiment,
            ..
        } if reps.is_some() || experiment.shard.is_some() || variants.is_some() => {
            if json {
                return fail("--json is for one run; with --reps, --out DIR writes result.json");
            }
            let arms = match single_arms(&file, variants.as_deref()) {
                Ok(a) => a,
                Err(c) => return c,
            };
            let run_args = RunArgs {
                seed,
                duration,
                warmup,
                drain,
            };
            let kind = if arms.len() > 1 {
                Kind::Comparison
            } else {
                Kind::Replications
            };
            run_experiment(
                kind,
                arms,
                Vec::new(),
                Vec::new(),
                reps.unwrap_or(10),
                out.as_deref(),
                &run_args,
                &experiment,
            )
        }
        Command::Run {
            file,
            seed,
            duration,
            warmup,
            drain,
            json,
            wide,
            out,
            experiment,
            ..
        } => run(
            file,
            &experiment,
            seed,
            duration,
            warmup,
            drain,
            json,
            SummaryOptions { wide },
            out,
        ),
        Command::Compare {
            files,
            variants,
            reps,
            out,
            run,
            experiment,
        } => match compare_arms(&files, variants.as_deref()) {
            Ok(arms) => run_experiment(
                Kind::Comparison,
                arms,
                Vec::new(),
                Vec::new(),
                reps,
                out.as_deref(),
                &run,
                &experiment,
            ),
            Err(c) => c,
        },
        Command::Sweep {
            file,
            vary,
            target,
            variants,
            reps,
            out,
            run,
            experiment,
        } => sweep(
            &file,
            &vary,
            &target,
            variants.as_deref(),
            reps,
            out.as_deref(),
            &run,
            &experiment,
        ),
        Command::Merge { shards, out, csv } => merge(&shards, &out, csv.as_deref()),
        Command::Check { file } => check(file),
        Command::Chart { report, out } => chart(&report, &out),
    }
}

/// `microsim sweep`: parses the axes and targets, then runs the grid.
#[allow(clippy::too_many_arguments)]
fn sweep(
    file: &Path,
    vary: &[String],
    target: &[String],
    variants: Option<&str>,
    reps: u32,
    out: Option<&Path>,
    run: &RunArgs,
    experiment: &ExperimentArgs,
) -> ExitCode {
    if vary.len() > 2 {
        return fail("a sweep varies one or two parameters (--vary at most twice)");
    }
    let axes = match vary
        .iter()
        .map(|v| Axis::parse(v))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(a) => a,
        Err(e) => return fail(format!("--vary {e}")),
    };
    let targets = match target
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(t) => t,
        Err(e) => return fail(format!("--target {e}")),
    };
    match single_arms(file, variants) {
        Ok(arms) => run_experiment(Kind::Sweep, arms, axes, targets, reps, out, run, experiment),
        Err(c) => c,
    }
}

/// Prints `msg` as an error; the exit code of invalid input or a failed run.
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Loads a topology file, printing every problem on failure.
fn load(file: &PathBuf) -> Result<microsim::Model, ExitCode> {
    microsim::load(file).map_err(|e| match e {
        LoadError::Invalid { .. } => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        e => fail(e),
    })
}

#[allow(clippy::too_many_arguments)]
fn run(
    file: PathBuf,
    experiment: &ExperimentArgs,
    seed: Option<u64>,
    duration: Option<String>,
    warmup: Option<String>,
    drain: bool,
    json: bool,
    summary: SummaryOptions,
    out: Option<PathBuf>,
) -> ExitCode {
    if let Err(code) = refuse_experiment_flags(experiment) {
        return code;
    }
    let model = match load(&file).and_then(|m| apply_set(m, &experiment.set)) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let parse = |flag: &str, v: Option<String>| match v {
        None => Ok(None),
        Some(text) => parse_duration(&text)
            .map(Some)
            .map_err(|e| fail(format!("--{flag}: {e}"))),
    };
    let options = RunOptions {
        seed,
        duration: match parse("duration", duration) {
            Ok(d) => d,
            Err(c) => return c,
        },
        warmup: match parse("warmup", warmup) {
            Ok(d) => d,
            Err(c) => return c,
        },
        drain,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let report = match model.run(&options) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let wall = started.elapsed().as_secs_f64();
    let written = match &out {
        Some(dir) => match write_report_dir(dir, &report, true) {
            Ok(line) => Some(line),
            Err(msg) => return fail(msg),
        },
        None => None,
    };
    let mut text = if json {
        format!("{}\n", report.to_json())
    } else {
        render_summary_with(&report, &summary)
    };
    // Standard output is the same for the same seed, byte for byte: the wall time goes to
    // standard error.
    if !json {
        eprintln!(
            "{} events in {:.3} s wall time ({:.2} M events/s)",
            report.events,
            wall,
            report.events as f64 / wall.max(1e-9) / 1e6
        );
    }
    if let Some(line) = written {
        // With --json, standard output is the report alone; the note goes to stderr.
        if json {
            eprintln!("{line}");
        } else {
            text.push('\n');
            text.push_str(&line);
            text.push('\n');
        }
    }
    emit(&text)
}

/// `microsim chart REPORT --out DIR`: reads a saved report and writes its charts and
/// index.html to `DIR`, exactly as `run --out` did.
fn chart(file: &Path, dir: &Path) -> ExitCode {
    let report = match read_report(file) {
        Ok(r) => r,
        Err(msg) => return fail(msg),
    };
    match write_report_dir(dir, &report, false) {
        Ok(line) => emit(&format!("{line}\n")),
        Err(msg) => fail(msg),
    }
}

/// Reads a report written by `run --out` or `--json`. The error names the file and says
/// whether it could not be read, is not JSON, is a report of another schema or is not a
/// report at all.
fn read_report(file: &Path) -> Result<Report, String> {
    let name = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{name}: not a microsim report: invalid JSON: {e}"))?;
    match value.get("schema").and_then(serde_json::Value::as_u64) {
        None => {
            return Err(format!(
                "{name}: not a microsim report: no `schema` number at the top level"
            ))
        }
        Some(n) if n != u64::from(SCHEMA_VERSION) => {
            return Err(format!(
                "{name}: report schema {n}, but this microsim reads schema {SCHEMA_VERSION}; \
                 run the topology again to write a current report"
            ))
        }
        Some(_) => {}
    }
    Report::from_json(&text)
        .map_err(|e| format!("{name}: not a microsim report of schema {SCHEMA_VERSION}: {e}"))
}

/// Writes the charts of `report`, `index.html` and, with `with_json`, `report.json` into
/// `dir` (created if missing). Returns the line to print, or an error naming the path that
/// could not be written.
fn write_report_dir(dir: &Path, report: &Report, with_json: bool) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, contents: &str| {
        let path = dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if with_json {
        write("report.json", &report.to_json())?;
    }
    let charts = render_all(report);
    for c in &charts {
        write(&c.file, &c.svg)?;
    }
    write("index.html", &render_html(report, &charts))?;
    Ok(format!(
        "wrote {}index.html and {} chart{} to {}",
        if with_json { "report.json, " } else { "" },
        charts.len(),
        if charts.len() == 1 { "" } else { "s" },
        dir.display()
    ))
}

fn check(file: PathBuf) -> ExitCode {
    let model = match load(&file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    emit(&microsim::render::render_analysis(&model, &model.analyze()))
}

/// Writes `text` to standard output. A closed pipe (`microsim run … | head`) is not an
/// error worth a panic: the reader has what it wanted.
fn emit(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(format!("cannot write to standard output: {e}")),
    }
}

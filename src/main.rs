//! The `microsim` command line: `run` a topology file, or `check` it without simulating.
//!
//! Exit codes: 0 success; 2 the input was invalid or the run failed.

use clap::{Parser, Subcommand};
use microsim::report::render_summary;
use microsim::time::parse_duration;
use microsim::{LoadError, RunOptions};
use std::path::PathBuf;
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
        /// Also write the report to DIR/report.json.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
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
        } => run(file, seed, duration, warmup, drain, json, out),
        Command::Check { file } => check(file),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

fn load(file: &PathBuf) -> Result<microsim::Model, ExitCode> {
    microsim::load(file).map_err(|e| match e {
        LoadError::Invalid { .. } => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        e => fail(e),
    })
}

fn run(
    file: PathBuf,
    seed: Option<u64>,
    duration: Option<String>,
    warmup: Option<String>,
    drain: bool,
    json: bool,
    out: Option<PathBuf>,
) -> ExitCode {
    let model = match load(&file) {
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
    };
    let started = Instant::now();
    let report = match model.run(&options) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let wall = started.elapsed().as_secs_f64();
    if let Some(dir) = out {
        if let Err(e) = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(dir.join("report.json"), report.to_json()))
        {
            return fail(format!("cannot write {}/report.json: {e}", dir.display()));
        }
    }
    let text = if json {
        format!("{}\n", report.to_json())
    } else {
        format!(
            "{}\n{} events in {:.2} s wall time ({:.1} M events/s)\n",
            render_summary(&report),
            report.events,
            wall,
            report.events as f64 / wall.max(1e-9) / 1e6
        )
    };
    emit(&text)
}

fn check(file: PathBuf) -> ExitCode {
    let model = match load(&file) {
        Ok(m) => m,
        Err(code) => return code,
    };
    emit(&microsim::report::render_analysis(&model, &model.analyze()))
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

//! The command line's parts beyond `main.rs`: the experiment commands and their progress bar.

pub mod experiment;
pub mod progress;

use clap::Args;
use microsim::time::parse_duration;
use microsim::RunOptions;
use std::process::ExitCode;

pub(crate) use crate::{emit, fail, load};

/// The run options every simulating command takes.
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Seed of every random stream; with replications, the master seed they derive from
    /// (default: the file's `run.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Simulated duration of each run, e.g. 10m (default: the file's `run.duration`).
    #[arg(long)]
    pub duration: Option<String>,
    /// Warm-up excluded from statistics, e.g. 30s (default: the file's `run.warmup`).
    #[arg(long)]
    pub warmup: Option<String>,
    /// Stop arrivals at the end of the duration, then run until every request has ended.
    #[arg(long)]
    pub drain: bool,
}

/// The [`RunOptions`] of `args`, or the error printed.
pub fn run_options(args: &RunArgs) -> Result<RunOptions, ExitCode> {
    let parse = |flag: &str, v: &Option<String>| match v {
        None => Ok(None),
        Some(text) => parse_duration(text)
            .map(Some)
            .map_err(|e| fail(format!("--{flag}: {e}"))),
    };
    Ok(RunOptions {
        seed: args.seed,
        duration: parse("duration", &args.duration)?,
        warmup: parse("warmup", &args.warmup)?,
        drain: args.drain,
        ..RunOptions::default()
    })
}

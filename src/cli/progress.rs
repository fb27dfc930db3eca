//! A progress bar on standard error for work longer than about a second: runs done of all,
//! elapsed time and an estimate of what is left (indicatif). Silent when standard error is
//! not a terminal, with `--quiet`, and for work that ends within the first second, so that
//! pipes and logs get nothing but the result.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long work runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A bar that shows itself once the work has taken [`SHOW_AFTER`].
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    /// Whether the bar may be drawn at all, and whether it is drawn yet.
    state: Mutex<(bool, bool)>,
}

impl Progress {
    /// A bar for `total` runs; never drawn when `quiet` or when standard error is not a
    /// terminal.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs · {elapsed_precise} elapsed · {eta} left",
        ) {
            bar.set_style(style);
        }
        let may_draw = !quiet && std::io::stderr().is_terminal();
        Progress {
            bar,
            started: Instant::now(),
            state: Mutex::new((may_draw, false)),
        }
    }

    /// `done` runs have finished.
    pub fn set(&self, done: u64) {
        if let Ok(mut s) = self.state.lock() {
            if s.0 && !s.1 && self.started.elapsed() >= SHOW_AFTER {
                self.bar.set_draw_target(ProgressDrawTarget::stderr());
                s.1 = true;
            }
        }
        self.bar.set_position(done);
    }

    /// The work has ended: the bar goes away.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

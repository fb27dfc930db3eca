//! Errors, one type per phase: loading a topology ([`LoadError`]) and running it
//! ([`RunError`]).
//!
//! Errors are values, never panics: anything a user writes in a topology file, however wrong,
//! ends in one of these with a message that names the place (file, line, field path) and says
//! what to do. Messages are lower-case and quote the offending value.

use std::fmt;
use std::path::PathBuf;

/// One problem found while checking a topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: a path into the file such as `services[gateway].steps[1].timeout`.
    pub path: String,
    /// What is wrong, quoting the value.
    pub message: String,
    /// The 1-based line the path points at: the line of the field, else of the nearest
    /// enclosing one that is written, else where the topology starts (a top-level field left
    /// out). `None` only when the model was compiled without its source text.
    pub line: Option<usize>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Why a topology could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The text is not UTF-8 or not RON of the topology's shape (bad syntax, wrong type, an
    /// unknown variant). Fix the file at the given line and column.
    #[error("{origin}:{line}:{col}: {message}")]
    Syntax {
        /// The file name (or `<string>`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// The file describes an invalid model (unknown fields, or values that break the rules);
    /// every problem is listed, one a line as `origin:line: path: message`.
    #[error("{origin}: {} problem{} found:\n{}", problems.len(), if problems.len() == 1 { "" } else { "s" }, list(origin, problems))]
    Invalid {
        /// The file name (or `<string>`).
        origin: String,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
}

/// One problem a line, `file:line: path: message` as compilers write them, so that editors
/// and terminals can jump to the place. A line break inside a quoted value is shown as `\n`,
/// so that each problem stays on its line.
fn list(origin: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let (path, message) = (one_line(&p.path), one_line(&p.message));
            match p.line {
                Some(line) => format!("  - {origin}:{line}: {path}: {message}"),
                None => format!("  - {origin}: {path}: {message}"),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with its line breaks written as `\n` and `\r`.
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        text.replace('\n', "\\n").replace('\r', "\\r").into()
    } else {
        text.into()
    }
}

impl LoadError {
    /// The problems of an [`LoadError::Invalid`] error (empty for the other kinds).
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// More requests were in flight at once than `run.max_in_flight` allows: the model is
    /// overloaded (ρ ≥ 1 with an unbounded queue) or in a retry storm. Bound the queue named
    /// here, lower the load, or raise the cap if the machine has the memory.
    #[error("run stopped at {at_s:.3}s: {in_flight} requests in flight exceed run.max_in_flight = {cap}; work piles up at service `{service}` ({at_service} requests there). Bound its queue (`queue: N`), lower the load, or raise run.max_in_flight")]
    InFlightCap {
        /// Simulated time when the cap was hit \[s\].
        at_s: f64,
        /// Requests in flight then.
        in_flight: u64,
        /// The cap.
        cap: u64,
        /// The service where the most requests wait for a worker (on a tie, the one holding
        /// the most requests): the bottleneck, not the callers waiting on it.
        service: String,
        /// Requests held by that service (queued or in service).
        at_service: u64,
    },
    /// Virtual time stood still for more than `run.max_events_per_instant` events: the model
    /// loops in zero time (a Zeno model), e.g. a message that fails and comes back at once, or
    /// processing that takes no time and sends the message round again. The message names
    /// what went round at that instant and what to change.
    #[error("run stopped at {at_s:.3}s: virtual time stood still for more than {cap} events (run.max_events_per_instant = {cap}). Going round at that instant: {going_round}. {advice}")]
    ZenoGuard {
        /// The instant where time stood still \[s\].
        at_s: f64,
        /// The cap.
        cap: u64,
        /// What was busy at that instant, the busiest first (queues, groups, services,
        /// steps, with counts).
        going_round: String,
        /// What to change so that time advances.
        advice: String,
    },
    /// An override passed to the run is not valid (e.g. a warm-up longer than the run).
    #[error("invalid run option: {0}")]
    BadOption(String),
}

/// The closest of `candidates` to `name` by edit distance, if it is close enough to be a typo.
pub fn did_you_mean<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (levenshtein(name, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

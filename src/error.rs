//! Errors, one type per phase: loading a topology ([`LoadError`]) and running it
//! ([`RunError`]).
//!
//! Errors are values, never panics: anything a user writes in a topology file, however wrong,
//! ends in one of these with a message that names the place (file, line, field path) and says
//! what to do. Messages are lower-case and quote the offending value.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// One problem found while checking a topology (or the configuration of a mechanism).
///
/// Every check of the crate reports this one type, from the state machines' own
/// configuration checks (whose paths name their fields, e.g. `base`) up to the model compiler
/// (whose paths start at the top of the file, e.g. `services[gateway].steps[1].timeout`). A
/// check deep down reports a path relative to what it checks; whoever calls it places the
/// problem in the file with [`Problem::within`] or [`At::add`].
///
/// Shown as `line L: path: message; hint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: a path into the file such as `services[gateway].steps[1].timeout`; empty for
    /// the value being checked itself.
    pub path: String,
    /// The 1-based line the path points at: the line of the field, else of the nearest
    /// enclosing one that is written, else where the topology starts (a top-level field left
    /// out). `None` when the model was compiled without its source text, and for problems
    /// not yet placed in a file.
    pub line: Option<usize>,
    /// What is wrong, quoting the value.
    pub message: String,
    /// What to do about it, when the message alone does not say (a fix, a suggestion, an
    /// example value).
    pub hint: Option<String>,
}

impl Problem {
    /// A problem at `path` (relative to whatever is being checked), not yet at a line.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            line: None,
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem with `hint` saying what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The message and the hint as shown to a user: `message; hint`.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.hint {
            Some(hint) => format!("{}; {hint}", self.message).into(),
            None => Cow::Borrowed(&self.message),
        }
    }

    /// The same problem with its path placed inside `prefix`: a problem at `base` found by
    /// the check of a backoff at `retry.backoff` is at `retry.backoff.base`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = join(prefix, &self.path);
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.text()),
            None => write!(f, "{}: {}", self.path, self.text()),
        }
    }
}

/// `path` followed by `field`: `a.b` for a field, `a[k]` for a field written `[k]` (a key or
/// an index), and either one alone when the other is empty.
pub fn join(path: &str, field: &str) -> String {
    match (path, field) {
        (p, "") => p.to_string(),
        ("", f) => f.to_string(),
        (p, f) if f.starts_with('[') => format!("{p}{f}"),
        (p, f) => format!("{p}.{f}"),
    }
}

/// Every problem found by a check, in the order found: the collector that every check of the
/// crate reports to, so that a user gets every problem at once.
///
/// Problems are pushed at a place ([`Problems::at`]), whose path prefixes theirs:
/// `problems.at("retry").at("backoff").push("…")` reports at `retry.backoff`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Problems(Vec::new())
    }

    /// The place at `path` (from the top of what is checked), to report problems there.
    pub fn at(&mut self, path: impl Into<String>) -> At<'_> {
        At {
            list: &mut self.0,
            path: path.into(),
        }
    }

    /// Adds a problem as it is (its path from the top).
    pub fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// How many problems were found so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// The problems, to change them in place (e.g. to set their lines).
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Problem> {
        self.0.iter_mut()
    }

    /// The problems, in the order found.
    pub fn into_vec(self) -> Vec<Problem> {
        self.0
    }
}

impl Extend<Problem> for Problems {
    /// Adds problems as they are (their paths from the top), e.g. the `None` or `Some` of a
    /// rule that finds at most one.
    fn extend<I: IntoIterator<Item = Problem>>(&mut self, problems: I) {
        self.0.extend(problems);
    }
}

impl IntoIterator for Problems {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// A place inside what is checked (a path) where problems are reported to a [`Problems`]
/// collector. Places nest: [`At::at`] goes one field (or `[key]`) deeper.
#[derive(Debug)]
pub struct At<'p> {
    list: &'p mut Vec<Problem>,
    path: String,
}

impl At<'_> {
    /// The place of `field` inside this one (`field` written `[k]` for a key or an index).
    pub fn at(&mut self, field: &str) -> At<'_> {
        At {
            path: join(&self.path, field),
            list: &mut *self.list,
        }
    }

    /// This place's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Reports `message` here; returns the problem, to add a hint or a line.
    pub fn push(&mut self, message: impl Into<String>) -> &mut Problem {
        self.add(Problem::new("", message))
    }

    /// Reports `message` here, with `hint` saying what to do; returns the problem, to add a
    /// line.
    pub fn push_with_hint(
        &mut self,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> &mut Problem {
        self.add(Problem::new("", message).with_hint(hint))
    }

    /// Reports a problem whose path is relative to this place (as a mechanism's own check
    /// returns it); returns it as placed.
    pub fn add(&mut self, problem: Problem) -> &mut Problem {
        self.list.push(problem.within(&self.path));
        let last = self.list.len() - 1;
        &mut self.list[last]
    }

    /// How many problems the collector holds, here and everywhere else: compare before and
    /// after a check to know whether it found any.
    pub fn found(&self) -> usize {
        self.list.len()
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
            let (path, text) = (one_line(&p.path), p.text());
            let message = one_line(&text);
            match p.line {
                Some(line) => format!("  - {origin}:{line}: {path}: {message}"),
                None => format!("  - {origin}: {path}: {message}"),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with its line breaks written as `\n` and `\r`.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_nest_and_prefix_the_paths_of_what_they_report() {
        let mut problems = Problems::new();
        problems
            .at("services[api]")
            .at("steps")
            .at("[0]")
            .at("retry")
            .at("backoff")
            .push("is 0s");
        let mut retry = problems.at("services[api].steps[0].retry");
        let before = retry.found();
        retry
            .at("budget")
            .add(Problem::new("percent", "`120` is not a percentage").with_hint("use 20"));
        retry.add(Problem::new("", "at the place itself"));
        assert_eq!(retry.found(), before + 2);
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "services[api].steps[0].retry.backoff",
                "services[api].steps[0].retry.budget.percent",
                "services[api].steps[0].retry",
            ]
        );
        assert_eq!(problems.len(), 3);
    }

    #[test]
    fn paths_join_fields_keys_and_empty_parts() {
        assert_eq!(join("a", "b"), "a.b");
        assert_eq!(join("a", "[0]"), "a[0]");
        assert_eq!(join("", "b"), "b");
        assert_eq!(join("a", ""), "a");
        assert_eq!(
            Problem::new("[2]", "x").within("samples").path,
            "samples[2]"
        );
    }

    #[test]
    fn a_hint_is_shown_after_the_message() {
        let mut p = Problem::new("run.bucket", "the bucket is 0").with_hint("give 1s");
        assert_eq!(p.text(), "the bucket is 0; give 1s");
        assert_eq!(p.to_string(), "run.bucket: the bucket is 0; give 1s");
        p.line = Some(3);
        assert_eq!(
            p.to_string(),
            "line 3: run.bucket: the bucket is 0; give 1s"
        );
        let plain = Problem::new("run", "wrong");
        assert_eq!(plain.text(), "wrong");
        assert!(matches!(plain.text(), Cow::Borrowed(_)));
        let e = LoadError::Invalid {
            origin: "t.ron".into(),
            problems: vec![p, plain],
        };
        assert_eq!(
            e.to_string(),
            "t.ron: 2 problems found:\n  - t.ron:3: run.bucket: the bucket is 0; give 1s\n  - t.ron: run: wrong"
        );
    }
}

//! Structure-aware fuzzing of the bundled topologies, kept in the suite.
//!
//! Each case takes a bundled topology, lexes it into RON tokens and applies one to four
//! mutations that keep most of the file well-formed, so that the mutant reaches validation,
//! the analytic shadow and the engine, not only the parser:
//! * a number or string literal replaced by an edge value (0, huge, negative, NaN, `"0ns"`,
//!   `"1000d"`, a name of another service…);
//! * an identifier (a field or variant name) replaced by another one of the file;
//! * a balanced element (a `(…)`, `[…]` or `{…}` with what precedes it up to a comma)
//!   deleted or duplicated;
//! * a name swapped for another name of the file (unknown names, cycles, duplicates).
//!
//! Whatever comes out, loading never panics and every error names a place; what the parser
//! reads is written back as RON that reads the same (`TopologySpec::to_ron`); a valid mutant's
//! `check` returns; its bounded run either ends or stops with a [`RunError`]; the report of
//! a run loads back from JSON and re-renders byte for byte.
//!
//! The number of cases is `MICROSIM_FUZZ_CASES` (default 96, a few seconds). A longer run:
//! `MICROSIM_FUZZ_CASES=60000 MICROSIM_FUZZ_SEED=2 cargo test --release --test suite fuzz -- --nocapture`
//! (see `docs/testing.md`). A failure prints the mutant, and proptest shrinks it to few
//! mutations.

use crate::common::bundled;
use microsim::chart::render_all;
use microsim::render::render_html;
use microsim::time::SimDuration;
use microsim::{LoadError, Model, Report, RunError, RunOptions, Simulation};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::cell::RefCell;
use std::sync::OnceLock;

/// One RON token: its byte span and kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Number,
    Str,
    Ident,
    Open,
    Close,
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits RON text into tokens, skipping whitespace and comments. A light lexer for the
/// mutator (the bundled files are valid RON), not a parser.
fn lex(text: &str) -> Vec<Token> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                Kind::Str
            }
            b'0'..=b'9' | b'-' | b'+' => {
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'.' | b'_')) {
                    i += 1;
                }
                Kind::Number
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                Kind::Ident
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                Kind::Open
            }
            b')' | b']' | b'}' => {
                i += 1;
                Kind::Close
            }
            _ => {
                // Punctuation, or a byte of a multi-byte character: keep char boundaries.
                i += 1;
                while i < b.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Punct
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

/// Edge values for numbers: zero, one, negative, fractions, the integer limits, huge rates,
/// and the floats RON accepts that are not numbers.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.0",
    "0.5",
    "1.0",
    "2",
    "100",
    "65535",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "1e9",
    "1.5e9",
    "1e12",
    "1e308",
    "1e-300",
    "-0.0",
    "NaN",
    "inf",
    "-inf",
    "1000000",
    "10000",
];

/// Edge values for strings: durations at the limits, odd units, names that exist nowhere.
const STRINGS: &[&str] = &[
    "\"0ns\"",
    "\"1ns\"",
    "\"2ns\"",
    "\"0s\"",
    "\"1ms\"",
    "\"1000d\"",
    "\"1d\"",
    "\"99999999999h\"",
    "\"18446744073709551615ns\"",
    "\"\"",
    "\"-5ms\"",
    "\"1.5s\"",
    "\"5\"",
    "\"nosuch\"",
    "\"1e3ms\"",
    "\"10m\"",
];

/// Variant and field names worth swapping in besides the file's own.
const IDENTS: &[&str] = &[
    "Crash",
    "Hang",
    "Block",
    "DeadLetter",
    "Wait",
    "Buffer",
    "Fail",
    "Ignore",
    "Const",
    "Exp",
    "Gamma",
    "Parallel",
    "Choice",
    "replica",
    "prefetch",
    "retry_delay",
    "max_receives",
    "commit_interval",
    "on_exhausted",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the k-th literal by the v-th edge value of its kind.
    Literal(usize, usize),
    /// Replace the k-th identifier by the v-th identifier (of the file, then of `IDENTS`).
    Ident(usize, usize),
    /// Replace the k-th string by the v-th string of the file (names move around).
    SwapString(usize, usize),
    /// Delete the k-th balanced element (with its field name, if any).
    DeleteElement(usize),
    /// Copy the k-th balanced element next to itself.
    DuplicateElement(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<usize>(), any::<usize>()).prop_map(|(k, v)| Mutation::Literal(k, v)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(k, v)| Mutation::Ident(k, v)),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(k, v)| Mutation::SwapString(k, v)),
        2 => any::<usize>().prop_map(Mutation::DeleteElement),
        2 => any::<usize>().prop_map(Mutation::DuplicateElement),
    ]
}

/// The byte span of the k-th balanced element: an opening bracket to its match, extended
/// back over `name:` or a variant name before it, and forward over one trailing comma.
fn element(text: &str, tokens: &[Token], k: usize) -> Option<(usize, usize)> {
    let opens: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens[i].kind == Kind::Open)
        .skip(1) // never the whole topology
        .collect();
    if opens.is_empty() {
        return None;
    }
    let i = opens[k % opens.len()];
    let mut depth = 0usize;
    let mut close = None;
    for (j, t) in tokens.iter().enumerate().skip(i) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let mut start = i;
    // `Call(` / `"api": (` / `steps: [`: take the name and the colon with the element.
    if start > 0 && tokens[start - 1].kind == Kind::Ident {
        start -= 1;
    }
    if start > 1 && &text[tokens[start - 1].start..tokens[start - 1].end] == ":" {
        start -= 2;
    }
    let mut end = tokens[close].end;
    if let Some(t) = tokens.get(close + 1) {
        if &text[t.start..t.end] == "," {
            end = t.end;
        }
    }
    Some((tokens[start].start, end))
}

fn apply(text: &mut String, m: &Mutation) {
    let tokens = lex(text);
    let of =
        |kind: Kind| -> Vec<Token> { tokens.iter().copied().filter(|t| t.kind == kind).collect() };
    match *m {
        Mutation::Literal(k, v) => {
            let lits: Vec<Token> = tokens
                .iter()
                .copied()
                .filter(|t| matches!(t.kind, Kind::Number | Kind::Str))
                .collect();
            if let Some(t) = lits.get(k % lits.len().max(1)) {
                let pool = if t.kind == Kind::Str {
                    STRINGS
                } else {
                    NUMBERS
                };
                text.replace_range(t.start..t.end, pool[v % pool.len()]);
            }
        }
        Mutation::Ident(k, v) => {
            let idents = of(Kind::Ident);
            if idents.is_empty() {
                return;
            }
            let t = idents[k % idents.len()];
            let mut names: Vec<String> = idents
                .iter()
                .map(|i| text[i.start..i.end].to_string())
                .collect();
            names.extend(IDENTS.iter().map(|s| s.to_string()));
            text.replace_range(t.start..t.end, &names[v % names.len()]);
        }
        Mutation::SwapString(k, v) => {
            let strs = of(Kind::Str);
            if strs.is_empty() {
                return;
            }
            let (a, b) = (strs[k % strs.len()], strs[v % strs.len()]);
            let replacement = text[b.start..b.end].to_string();
            text.replace_range(a.start..a.end, &replacement);
        }
        Mutation::DeleteElement(k) => {
            if let Some((a, b)) = element(text, &tokens, k) {
                text.replace_range(a..b, "");
            }
        }
        Mutation::DuplicateElement(k) => {
            if let Some((a, b)) = element(text, &tokens, k) {
                let mut copy = text[a..b].to_string();
                if !copy.trim_end().ends_with(',') {
                    copy.insert(0, ',');
                }
                text.insert_str(b, &copy);
            }
        }
    }
}

/// The bundled topologies' texts, read once.
fn corpus() -> &'static [(String, String)] {
    static CORPUS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        bundled()
            .into_iter()
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect()
    })
}

/// What happened to one mutant (counted, and printed by the long run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Outcome {
    SyntaxError,
    Invalid,
    RunError,
    Ran,
    Stepped,
}

/// Short runs keep a case cheap whatever the mutant asks for.
const RUN: SimDuration = SimDuration::from_millis(1_000);
/// Arrivals above which a mutant is only stepped a bounded number of events.
const MAX_ARRIVALS: f64 = 40_000.0;
const MAX_STEPS: u64 = 200_000;
/// A Zeno guard far below the default, so that a loop at one instant is caught quickly;
/// the busiest bundled topology reaches 4,653 events at one instant.
const INSTANT_CAP: u64 = 20_000;

/// Loads, checks and runs `text` as a user would; panics (fails the case) when a promise
/// is broken.
fn exercise(origin: &str, text: &str) -> Outcome {
    written_back(text);
    let model = match microsim::parse(text, origin) {
        Ok(m) => m,
        Err(e) => return check_error(origin, &e),
    };
    let analysis = model.analyze();
    let _ = microsim::render::render_analysis(&model, &analysis);
    run(&model)
}

/// What the parser reads is written back as RON that reads as the same spec (compared as
/// written again, since a NaN is not equal to itself).
fn written_back(text: &str) {
    let Ok(spec) = microsim::spec::parse_ron(text) else {
        return;
    };
    let ron = spec.to_ron();
    let back = microsim::spec::parse_ron(&ron)
        .unwrap_or_else(|e| panic!("the spec written back does not parse: {e}\n{ron}"));
    assert!(
        back.to_ron() == ron,
        "written back, the spec reads differently:\n{ron}\nvs\n{}",
        back.to_ron()
    );
}

/// Every load error names the file and a line.
fn check_error(origin: &str, e: &LoadError) -> Outcome {
    let shown = e.to_string();
    match e {
        LoadError::Syntax { line, .. } => {
            assert!(*line >= 1, "no line: {shown}");
            assert!(shown.starts_with(&format!("{origin}:")), "no file: {shown}");
            Outcome::SyntaxError
        }
        LoadError::Invalid { problems, .. } => {
            assert!(!problems.is_empty(), "invalid without a problem: {shown}");
            for p in problems {
                assert!(
                    p.line.is_some(),
                    "a problem without a line: {p}\nin {shown}"
                );
            }
            Outcome::Invalid
        }
        LoadError::Io { .. } => panic!("parse cannot fail to read: {shown}"),
    }
}

fn run(model: &Model) -> Outcome {
    let duration = model.run_config().duration.min(RUN);
    let options = RunOptions {
        duration: Some(duration),
        warmup: Some(SimDuration::ZERO),
        max_events_per_instant: Some(INSTANT_CAP),
        ..RunOptions::default()
    };
    let secs = duration.as_secs_f64();
    let arrivals: f64 = model
        .entries()
        .iter()
        .map(|e| e.arrivals.peak_rate(0, duration.as_nanos()) * secs)
        .sum();
    if arrivals > MAX_ARRIVALS {
        let Ok(mut sim) = Simulation::new(model, &options) else {
            return Outcome::RunError;
        };
        for _ in 0..MAX_STEPS {
            match sim.step() {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return Outcome::RunError,
            }
        }
        return Outcome::Stepped;
    }
    let Ok(mut sim) = Simulation::new(model, &options) else {
        return Outcome::RunError;
    };
    loop {
        match sim.step() {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let (busiest, _) = sim.busiest_instant();
                if let RunError::ZenoGuard { .. } = e {
                    // The guard fires only past its cap, and stops within its diagnosis
                    // window (at most the cap again) after it.
                    assert!(
                        busiest > INSTANT_CAP,
                        "guard fired at {busiest} events: {e}"
                    );
                    assert!(busiest <= 2 * INSTANT_CAP + 1, "guard late: {busiest}: {e}");
                }
                return Outcome::RunError;
            }
        }
    }
    // No run passes the cap on events at one instant without the guard stopping it.
    let (busiest, at) = sim.busiest_instant();
    assert!(
        busiest <= INSTANT_CAP,
        "{busiest} events at {at} and no guard"
    );
    match sim.run() {
        Ok(report) => {
            round_trip(&Report::new(report, model.analyze()));
            Outcome::Ran
        }
        Err(_) => Outcome::RunError,
    }
}

/// The report loads back from its JSON, writes the same JSON again, and draws the same
/// charts and HTML (what `microsim chart report.json` relies on).
fn round_trip(report: &Report) {
    let json = report.to_json();
    let back = Report::from_json(&json)
        .unwrap_or_else(|e| panic!("the report does not load back: {e}\n{json}"));
    assert_eq!(
        back.to_json(),
        json,
        "JSON → report → JSON changed the text"
    );
    let (a, b) = (render_all(report), render_all(&back));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!(
            x.svg == y.svg,
            "chart {} differs after the round trip",
            x.file
        );
    }
    assert!(render_html(report, &a) == render_html(&back, &b));
}

/// The fuzzer's seed: `MICROSIM_FUZZ_SEED`, or a fixed one so CI runs the same cases.
fn seed() -> u64 {
    std::env::var("MICROSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x0f75_7a7a)
}

fn cases() -> u32 {
    std::env::var("MICROSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

/// Mutants of every bundled topology: no panic, every error placed, every report readable.
#[test]
fn mutants_of_the_bundled_topologies_keep_every_promise() {
    let corpus = corpus();
    let strategy = (0..corpus.len(), prop::collection::vec(mutation(), 1..5));
    let config = Config {
        cases: cases(),
        rng_seed: RngSeed::Fixed(seed()),
        failure_persistence: None,
        ..Config::default()
    };
    let counts = RefCell::new(std::collections::BTreeMap::new());
    let started = std::time::Instant::now();
    let result = TestRunner::new(config).run(&strategy, |(i, muts)| {
        let (name, base) = &corpus[i];
        let mut text = base.clone();
        for m in &muts {
            apply(&mut text, m);
        }
        let outcome = std::panic::catch_unwind(|| exercise(name, &text)).map_err(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            TestCaseError::fail(format!("{msg}\n--- mutant of {name}:\n{text}"))
        })?;
        *counts.borrow_mut().entry(outcome).or_insert(0u64) += 1;
        Ok(())
    });
    let secs = started.elapsed().as_secs_f64();
    let counts = counts.into_inner();
    let total: u64 = counts.values().sum();
    println!(
        "fuzz: {total} mutants in {secs:.1} s ({:.0}/s): {counts:?}",
        total as f64 / secs.max(1e-9)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The mutator does what it claims on the corpus: its mutants reach every stage (guards
/// the fuzz test against mutating only into syntax errors).
#[test]
fn mutants_reach_validation_and_the_engine() {
    let corpus = corpus();
    let mut runner = TestRunner::new(Config {
        rng_seed: RngSeed::Fixed(7),
        ..Config::default()
    });
    let strategy = (0..corpus.len(), prop::collection::vec(mutation(), 1..3));
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let (i, muts) = strategy.new_tree(&mut runner).unwrap().current();
        let mut text = corpus[i].1.clone();
        for m in &muts {
            apply(&mut text, m);
        }
        seen.insert(match microsim::parse(&text, "m.ron") {
            Err(LoadError::Syntax { .. }) => Outcome::SyntaxError,
            Err(_) => Outcome::Invalid,
            Ok(_) => Outcome::Ran,
        });
    }
    assert_eq!(seen.len(), 3, "stages reached: {seen:?}");
}

#[test]
fn the_lexer_splits_a_topology_into_tokens() {
    let text = r#"Topology(services: { "a": (work: Exp(mean: "1ms"), errors: 0.5) }) // c"#;
    let kinds: Vec<Kind> = lex(text).iter().map(|t| t.kind).collect();
    use Kind::*;
    assert_eq!(
        kinds,
        [
            Ident, Open, Ident, Punct, Open, Str, Punct, Open, Ident, Punct, Ident, Open, Ident,
            Punct, Str, Close, Punct, Ident, Punct, Number, Close, Close, Close
        ]
    );
    let mut t = text.to_string();
    apply(&mut t, &Mutation::DeleteElement(2));
    assert_eq!(t, r#"Topology(services: { "a": ( errors: 0.5) }) // c"#);
}

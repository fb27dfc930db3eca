//! A resilience4j circuit breaker as a pure state machine on virtual time.
//!
//! [`CircuitBreaker`] reproduces `CircuitBreakerStateMachine` of resilience4j (docs/semantics.md,
//! *Circuit breaker*). It knows nothing of the engine: the engine hands it times and
//! outcomes, and it answers whether a call may pass and when it next needs a timer. The same
//! sequence of calls gives the same answers on every machine.
//!
//! ## States
//! ```text
//! CLOSED ── failure rate ≥ threshold or slow rate ≥ threshold, checked after each result,
//!    ▲      once the window holds min(minimum_calls, window size) results ──► OPEN(n = 1)
//!    │
//!    │ probes below both thresholds                               now > opened + wait(n)
//!    │ (fresh window, n = 0)                                      (lazily, on a call; or
//!    │                                                            by timer if automatic)
//!    │                                                                   │
//!    └──────────── HALF_OPEN(n): P permits, decides after ◄─────────────┘
//!                  min(minimum_calls, P) results;
//!                  thresholds reached ──► OPEN(n + 1), wait(n + 1) ≥ wait(n)
//! ```
//!
//! ## Engine protocol
//! 1. Before each attempt call [`CircuitBreaker::try_acquire`]. `false` is resilience4j's
//!    `CallNotPermittedException`: the call must not be made, and must not report a result.
//! 2. When a permitted call ends, report it once: [`CircuitBreaker::on_result`] with its
//!    duration and whether it failed, or [`CircuitBreaker::on_ignored`] when its outcome is
//!    one the breaker ignores. A permitted call that never reports (a lost probe) keeps its
//!    half-open permit forever, as in resilience4j.
//! 3. After any call into the breaker, [`CircuitBreaker::next_timer`] says when to call
//!    [`CircuitBreaker::on_timer`] (automatic OPEN→HALF_OPEN, the half-open time limit).
//!    Stale timers are harmless: `on_timer` acts only if the state it was armed for still
//!    holds at its time. With automatic transition, a call at exactly the end of the wait is
//!    rejected if it runs before the timer and probes if it runs after; in resilience4j the
//!    scheduler thread and the caller race the same way.
//!
//! ```
//! use microsim::call::breaker::{BreakerConfig, BreakerState, CircuitBreaker, Window};
//! use microsim::time::{SimDuration, SimTime};
//!
//! let mut cb = CircuitBreaker::new(BreakerConfig {
//!     window: Window::Count(10),
//!     minimum_calls: 10,
//!     wait_in_open: SimDuration::from_secs(5),
//!     ..BreakerConfig::default()
//! });
//! let now = SimTime::ZERO;
//! for i in 0..10 {
//!     assert!(cb.try_acquire(now));
//!     cb.on_result(now, SimDuration::from_millis(20), i % 2 == 0);
//! }
//! assert_eq!(cb.state(), BreakerState::Open); // 5 failed of 10: 50 % ≥ 50 %
//! let end_of_wait = now.after(SimDuration::from_secs(5));
//! assert!(!cb.try_acquire(end_of_wait)); // not strictly after the wait
//! assert!(cb.try_acquire(SimTime(end_of_wait.0 + 1)));
//! assert_eq!(cb.state(), BreakerState::HalfOpen);
//! ```
//!
//! ## Configuration ↔ resilience4j
//! | [`BreakerConfig`] field | resilience4j | default |
//! |---|---|---|
//! | `window` | `slidingWindowType` + `slidingWindowSize` | `Count(100)` |
//! | `failure_rate_threshold` | `failureRateThreshold` | 50 % |
//! | `slow_call_rate_threshold` | `slowCallRateThreshold` | 100 % |
//! | `slow_call_duration` | `slowCallDurationThreshold` | 60 s |
//! | `minimum_calls` | `minimumNumberOfCalls` | 100 |
//! | `wait_in_open` | `waitDurationInOpenState` (initial interval) | 60 s |
//! | `wait_multiplier`, `max_wait_in_open` | `ofExponentialBackoff(wait, m, max)` | 1, none |
//! | `half_open_calls` | `permittedNumberOfCallsInHalfOpenState` | 10 |
//! | `automatic_transition` | `automaticTransitionFromOpenToHalfOpenEnabled` | false |
//! | `max_wait_in_half_open` | `maxWaitDurationInHalfOpenState` | none (0) |
//! | `after_max_wait_in_half_open` | `transitionToStateAfterWaitDuration` | `Open` |
//!
//! ## Exactness
//! * Rates are computed as resilience4j does, in `f32`: `failed · 100 / calls`, compared with
//!   the threshold as an `f32` using **≥**. A call is slow when its duration is **>**
//!   `slow_call_duration` (nanoseconds, strict), whether it failed or not.
//! * Below `min(minimum_calls, size)` results (COUNT window) or `minimum_calls` results (TIME
//!   window) there is no decision, even at a 100 % failure rate.
//! * The COUNT window is a ring of the last N results. The TIME window is a ring of N
//!   one-second buckets keyed by the whole second of virtual time: it holds the current
//!   partial second plus the previous N − 1 whole seconds, and a bucket leaves it when the
//!   second N seconds after its own begins.
//! * OPEN lets a call through only when `now` is **strictly after** `opened + wait`.
//! * Open waits are whole milliseconds, as `IntervalFunction` returns them: `wait_in_open` and
//!   `max_wait_in_open` are truncated to milliseconds, and each backoff step is truncated,
//!   `w₁ = wait`, `w_{n+1} = ⌊w_n · multiplier⌋`, then `min(w_n, max)`. `max_wait_in_half_open`
//!   is truncated to milliseconds too, as resilience4j schedules it.
//! * Results that arrive while OPEN (calls admitted before it opened) are recorded in the
//!   window the breaker opened from and never cause a transition. Results that arrive while
//!   HALF_OPEN count as probes whoever admitted them, and an ignored call hands a half-open
//!   permit back even if it was admitted earlier, as in resilience4j, where results go to
//!   whatever state is current.
//!
//! Windows are allocated as results arrive, up to their size, so a breaker costs what its
//! calls fill (a `Count(1000000)` window on each of 10,000 caller replicas is not 10 GB up
//! front); a window's allocation doubles as it fills, about log₂(N) times in its life, and
//! never per call after that. Resets are O(1). The transition log grows only on transitions
//! and stops at [`TRANSITION_LOG_CAP`] entries.

use crate::error::Problem;
use crate::time::{SimDuration, SimTime, NS_PER_MS, NS_PER_S};
use serde::{Deserialize, Serialize};

/// The largest window (calls or seconds) and half-open permit count [`BreakerConfig::validate`]
/// accepts, so that a typo cannot allocate gigabytes per breaker.
pub const MAX_WINDOW_SIZE: u32 = 1_000_000;

/// The number of transitions a breaker keeps in its log; the count stays exact beyond it.
pub const TRANSITION_LOG_CAP: usize = 10_000;

/// The sliding window over which the closed breaker computes its rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last N results (`COUNT_BASED`) \[calls\].
    Count(u32),
    /// The results of the current second and the previous N − 1 whole seconds of virtual
    /// time (`TIME_BASED`) \[s\].
    Time(u32),
}

/// What the breaker does when `max_wait_in_half_open` runs out before the probes decide
/// (`transitionToStateAfterWaitDuration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AfterHalfOpenWait {
    /// Open again, with the attempt count raised by one (the resilience4j default).
    #[default]
    Open,
    /// Close, with a fresh window and the attempt count reset.
    Closed,
}

/// The parameters of one circuit breaker, with resilience4j's names and defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Kind and size of the closed-state window. Default `Count(100)`.
    pub window: Window,
    /// Opens when the failure rate is ≥ this \[%, in (0, 100\]\]. Default 50.
    pub failure_rate_threshold: f64,
    /// Opens when the slow-call rate is ≥ this \[%, in (0, 100\]\]. Default 100.
    pub slow_call_rate_threshold: f64,
    /// A call is slow when it lasts strictly longer than this \[ns, ≥ 1 ns\]. Default 60 s.
    pub slow_call_duration: SimDuration,
    /// Results needed in the window before any decision \[calls, ≥ 1\]. A COUNT window uses
    /// `min(minimum_calls, size)`. Default 100.
    pub minimum_calls: u32,
    /// The wait in OPEN after the first opening \[whole ms, ≥ 1 ms\]. Default 60 s.
    pub wait_in_open: SimDuration,
    /// Growth of the open wait per consecutive opening (≥ 1; 1 keeps it fixed). Default 1.
    pub wait_multiplier: f64,
    /// Cap on the open wait \[whole ms, ≥ `wait_in_open`\]; `None` for no cap. Default `None`.
    pub max_wait_in_open: Option<SimDuration>,
    /// Probe permits in HALF_OPEN, and the size of its COUNT window \[calls, ≥ 1\]. Default 10.
    pub half_open_calls: u32,
    /// `true`: OPEN turns HALF_OPEN by timer at the end of the wait. `false` (default): on the
    /// first call strictly after it.
    pub automatic_transition: bool,
    /// Longest stay in HALF_OPEN \[whole ms, ≥ 1 ms\]; `None` (default) stays until the probes
    /// decide, which may be never if a probe never reports.
    pub max_wait_in_half_open: Option<SimDuration>,
    /// Where `max_wait_in_half_open` leads. Default [`AfterHalfOpenWait::Open`].
    pub after_max_wait_in_half_open: AfterHalfOpenWait,
}

impl BreakerConfig {
    /// Bytes one breaker's windows hold once full: a byte per result of a COUNT window or a
    /// bucket per second of a TIME window, plus a byte per half-open probe. The windows are
    /// allocated as results arrive, so this is reached only by a breaker that has seen that
    /// many results (or seconds); sizes are clamped as [`CircuitBreaker::new`] clamps them.
    pub fn full_window_bytes(&self) -> u64 {
        let clamp = |n: u32| u64::from(n.clamp(1, MAX_WINDOW_SIZE));
        let closed = match self.window {
            Window::Count(n) => clamp(n),
            Window::Time(n) => clamp(n) * std::mem::size_of::<Bucket>() as u64,
        };
        closed + clamp(self.half_open_calls)
    }

    /// Bytes one breaker's windows hold after `results` results over `seconds` seconds:
    /// [`BreakerConfig::full_window_bytes`] for a breaker that has not filled its windows.
    /// The half-open window is counted full (it is small unless `half_open_calls` is huge).
    pub fn window_bytes_after(&self, results: f64, seconds: f64) -> f64 {
        let clamp = |n: u32| f64::from(n.clamp(1, MAX_WINDOW_SIZE));
        let closed = match self.window {
            Window::Count(n) => clamp(n).min(results.max(0.0).ceil()),
            Window::Time(n) => {
                clamp(n).min(seconds.max(0.0).ceil() + 1.0) * std::mem::size_of::<Bucket>() as f64
            }
        };
        closed + clamp(self.half_open_calls).min(results.max(0.0).ceil())
    }
}

impl Default for BreakerConfig {
    /// resilience4j's `CircuitBreakerConfig.ofDefaults()`.
    fn default() -> Self {
        BreakerConfig {
            window: Window::Count(100),
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 100.0,
            slow_call_duration: SimDuration::from_secs(60),
            minimum_calls: 100,
            wait_in_open: SimDuration::from_secs(60),
            wait_multiplier: 1.0,
            max_wait_in_open: None,
            half_open_calls: 10,
            automatic_transition: false,
            max_wait_in_half_open: None,
            after_max_wait_in_half_open: AfterHalfOpenWait::Open,
        }
    }
}

/// One backoff step of `IntervalFunction.ofExponentialBackoff`: `(long) (x * multiplier)`.
/// Rust's float-to-int `as` saturates and maps NaN to 0, like Java's cast.
fn backoff_step(x_ms: i64, multiplier: f64) -> i64 {
    (x_ms as f64 * multiplier) as i64
}

/// A whole number of milliseconds as a duration, saturating.
fn from_ms(ms: i64) -> SimDuration {
    SimDuration((ms.max(0) as u64).saturating_mul(NS_PER_MS))
}

/// A duration truncated to whole milliseconds, as Java's `Duration.toMillis()`.
fn to_ms(d: SimDuration) -> i64 {
    (d.0 / NS_PER_MS) as i64
}

impl BreakerConfig {
    /// The first problem with these values (see [`BreakerConfig::problems`]); `Ok` when
    /// valid.
    pub fn validate(&self) -> Result<(), Problem> {
        match self.problems().into_iter().next() {
            None => Ok(()),
            Some(problem) => Err(problem),
        }
    }

    /// Every problem with these values; empty when valid. Each is at the field as named in
    /// this struct, quotes the value, and has a hint saying what to do.
    ///
    /// The ranges are resilience4j's (its builder throws on the same values), plus two of
    /// ours: window sizes and `half_open_calls` at most [`MAX_WINDOW_SIZE`], and
    /// `max_wait_in_open` at least `wait_in_open` (below it, every wait would be the cap).
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push = |field: &str, message: String, hint: &str| {
            problems.push(Problem::new(field, message).with_hint(hint));
        };
        let (size, unit, example) = match self.window {
            Window::Count(n) => (n, "calls", "Count(100)"),
            Window::Time(n) => (n, "seconds", "Time(\"60s\")"),
        };
        if size == 0 {
            push(
                "window",
                format!("is 0 {unit}"),
                &format!("a window holds at least 1, e.g. {example}"),
            );
        } else if size > MAX_WINDOW_SIZE {
            push(
                "window",
                format!("is {size} {unit}, more than the limit of {MAX_WINDOW_SIZE}"),
                "use a smaller window",
            );
        }
        for (field, v) in [
            ("failure_rate_threshold", self.failure_rate_threshold),
            ("slow_call_rate_threshold", self.slow_call_rate_threshold),
        ] {
            if !(v > 0.0 && v <= 100.0) {
                push(
                    field,
                    format!("`{v}` is not a percentage in (0, 100]"),
                    "write e.g. 50 for half the calls",
                );
            }
        }
        if self.slow_call_duration == SimDuration::ZERO {
            push(
                "slow_call_duration",
                "is 0s, which would make every call slow".to_string(),
                "give at least 1ns, e.g. \"2s\"",
            );
        }
        if self.minimum_calls == 0 {
            push(
                "minimum_calls",
                "is 0".to_string(),
                "the breaker needs at least 1 result before deciding, e.g. 10",
            );
        }
        if to_ms(self.wait_in_open) < 1 {
            push(
                "wait_in_open",
                format!("is {}", self.wait_in_open),
                "resilience4j counts the open wait in whole milliseconds and needs at least \
                 1ms, e.g. \"5s\"",
            );
        }
        let m = self.wait_multiplier;
        if !m.is_finite() {
            push(
                "wait_multiplier",
                format!("`{m}` is not a finite number"),
                "use e.g. 2, or 1 for a fixed wait",
            );
        } else if m < 1.0 {
            push(
                "wait_multiplier",
                format!("`{m}` is below 1, which would shrink the wait with each opening"),
                "use a value ≥ 1 (1 keeps it fixed)",
            );
        }
        if let Some(max) = self.max_wait_in_open {
            if to_ms(max) < 1 {
                push(
                    "max_wait_in_open",
                    format!("is {max}"),
                    "give at least 1ms, or leave it out for no cap",
                );
            } else if to_ms(max) < to_ms(self.wait_in_open) {
                push(
                    "max_wait_in_open",
                    format!(
                        "{max} is shorter than the first open wait {}, so every wait would be \
                         {max}",
                        self.wait_in_open
                    ),
                    "make the cap at least the first wait, or lower the first wait",
                );
            }
        }
        if self.half_open_calls == 0 {
            push(
                "half_open_calls",
                "is 0, so the breaker could never close again".to_string(),
                "allow at least 1 probe, e.g. 10",
            );
        } else if self.half_open_calls > MAX_WINDOW_SIZE {
            push(
                "half_open_calls",
                format!(
                    "is {}, more than the limit of {MAX_WINDOW_SIZE}",
                    self.half_open_calls
                ),
                "use fewer probes",
            );
        }
        if let Some(d) = self.max_wait_in_half_open {
            if to_ms(d) < 1 {
                push(
                    "max_wait_in_half_open",
                    format!("is {d}; resilience4j arms this timer only from 1ms"),
                    "give at least 1ms, or leave it out to wait for the probes",
                );
            }
        }
        problems
    }

    /// The wait in OPEN after the `attempt`-th consecutive opening (1 for the first; 0 is
    /// treated as 1): `min(w_attempt, max)` with `w₁ = wait_in_open` and
    /// `w_{k+1} = ⌊w_k · wait_multiplier⌋`, in whole milliseconds.
    pub fn open_wait(&self, attempt: u32) -> SimDuration {
        let cap = self.max_wait_in_open.map_or(i64::MAX, to_ms);
        let mut w = to_ms(self.wait_in_open);
        for _ in 1..attempt.max(1) {
            // The sequence never decreases (multiplier ≥ 1), so it can stop at the cap or at a
            // fixed point (e.g. 1ms · 1.5 truncates back to 1ms).
            if w >= cap {
                break;
            }
            let next = backoff_step(w, self.wait_multiplier);
            if next == w {
                break;
            }
            w = next;
        }
        from_ms(w.min(cap))
    }
}

/// The state a breaker reports (`CircuitBreaker.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls pass; results fill the window.
    Closed,
    /// Calls are rejected until the wait is over.
    Open,
    /// A limited number of probe calls pass; their results decide.
    HalfOpen,
}

impl BreakerState {
    /// The snake_case name, as serialized: `closed`, `open`, `half_open`.
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }

    fn index(self) -> usize {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// One state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// When it happened.
    pub at: SimTime,
    /// The state left.
    pub from: BreakerState,
    /// The state entered.
    pub to: BreakerState,
}

/// What a window holds: results, failed results and slow results (failed or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// Results in the window \[calls\].
    pub calls: u64,
    /// Of which failed \[calls\].
    pub failed: u64,
    /// Of which slow, whether they failed or not \[calls\].
    pub slow: u64,
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl WindowCounts {
    /// `failed · 100 / calls` in `f32`, as resilience4j's `Snapshot.getFailureRate` \[%\];
    /// 0 for an empty window.
    pub fn failure_rate(&self) -> f32 {
        if self.calls == 0 {
            0.0
        } else {
            self.failed as f32 * 100.0 / self.calls as f32
        }
    }

    /// `slow · 100 / calls` in `f32`, as resilience4j's `Snapshot.getSlowCallRate` \[%\];
    /// 0 for an empty window.
    pub fn slow_call_rate(&self) -> f32 {
        if self.calls == 0 {
            0.0
        } else {
            self.slow as f32 * 100.0 / self.calls as f32
        }
    }

    #[inline]
    fn add(&mut self, outcome: u8) {
        self.calls += 1;
        self.failed += u64::from(outcome & FAILED);
        self.slow += u64::from((outcome & SLOW) >> 1);
    }

    #[inline]
    fn remove_one(&mut self, outcome: u8) {
        self.calls -= 1;
        self.failed -= u64::from(outcome & FAILED);
        self.slow -= u64::from((outcome & SLOW) >> 1);
    }

    #[inline]
    fn subtract(&mut self, other: WindowCounts) {
        self.calls -= other.calls;
        self.failed -= other.failed;
        self.slow -= other.slow;
    }
}

/// `FixedSizeSlidingWindowMetrics`: the last `size` outcomes with a running total.
///
/// The slots are allocated as outcomes arrive, up to `size`: a window of a million calls on
/// each of 10,000 caller replicas costs what the calls fill, not 10¹⁰ bytes up front.
#[derive(Clone, Debug)]
struct CountRing {
    /// Slots written since the ring was built (never shrinks, at most `size`).
    slots: Vec<u8>,
    /// The window's size N.
    size: usize,
    /// Where the next outcome goes; once full, the oldest outcome.
    next: usize,
    /// Filled slots; a reset sets it to 0 instead of clearing the slots.
    len: usize,
    total: WindowCounts,
}

impl CountRing {
    fn new(size: usize) -> Self {
        CountRing {
            slots: Vec::new(),
            size,
            next: 0,
            len: 0,
            total: WindowCounts::default(),
        }
    }

    fn reset(&mut self) {
        self.next = 0;
        self.len = 0;
        self.total = WindowCounts::default();
    }

    #[inline]
    fn record(&mut self, outcome: u8) {
        if self.len == self.size {
            self.total.remove_one(self.slots[self.next]);
        } else {
            self.len += 1;
        }
        // `next` never passes the slots written so far: it counts up from 0 after a reset.
        if self.next == self.slots.len() {
            self.grow();
            self.slots.push(outcome);
        } else {
            self.slots[self.next] = outcome;
        }
        self.total.add(outcome);
        self.next += 1;
        if self.next == self.size {
            self.next = 0;
        }
    }

    /// Makes room for one more slot: doubles the allocation (at least 64 slots), never
    /// beyond `size`, so a ring reallocates about log₂(N) times in its life.
    #[cold]
    fn grow(&mut self) {
        if self.slots.len() == self.slots.capacity() {
            let more = self.slots.len().max(64).min(self.size - self.slots.len());
            self.slots.reserve_exact(more);
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    /// The whole second of virtual time this bucket counts.
    second: u64,
    /// The window generation that wrote it; older generations count as empty.
    generation: u64,
    counts: WindowCounts,
}

/// `SlidingTimeWindowMetrics`: a ring of `size` one-second buckets with a running total.
///
/// Buckets are allocated as the head first reaches them, so a window of N seconds costs at
/// most what the run's seconds fill, not N buckets up front.
#[derive(Clone, Debug)]
struct TimeRing {
    /// Buckets the head has reached (never shrinks, at most `size`); the rest are empty.
    buckets: Vec<Bucket>,
    /// The window's size N \[s\].
    size: usize,
    /// The bucket of the latest second seen.
    head: usize,
    /// Raised by each reset, so a reset needs no clearing pass.
    generation: u64,
    total: WindowCounts,
}

impl TimeRing {
    fn new(size: usize, second: u64) -> Self {
        let mut ring = TimeRing {
            buckets: vec![Bucket::default()],
            size,
            head: 0,
            generation: 0,
            total: WindowCounts::default(),
        };
        ring.reset(second);
        ring
    }

    fn reset(&mut self, second: u64) {
        self.generation += 1;
        self.head = 0;
        self.buckets[0] = Bucket {
            second,
            generation: self.generation,
            counts: WindowCounts::default(),
        };
        self.total = WindowCounts::default();
    }

    #[inline]
    fn live(&self, i: usize) -> WindowCounts {
        match self.buckets.get(i) {
            Some(b) if b.generation == self.generation => b.counts,
            _ => WindowCounts::default(),
        }
    }

    /// `moveWindowToCurrentEpochSecond`: steps the head to `second`, emptying the buckets on
    /// the way and subtracting what they held. A step of N seconds or more empties the whole
    /// window, which is a reset at `second` (O(1) instead of N steps).
    #[inline]
    fn advance(&mut self, second: u64) {
        let latest = self.buckets[self.head].second;
        if second <= latest {
            return;
        }
        let n = self.size;
        if second - latest >= n as u64 {
            self.reset(second);
            return;
        }
        let mut steps = second - latest;
        while steps > 0 {
            steps -= 1;
            self.head += 1;
            if self.head == n {
                self.head = 0;
            }
            let fresh = Bucket {
                second: second - steps,
                generation: self.generation,
                counts: WindowCounts::default(),
            };
            if self.head == self.buckets.len() {
                self.buckets.push(fresh);
            } else {
                let gone = self.live(self.head);
                self.total.subtract(gone);
                self.buckets[self.head] = fresh;
            }
        }
    }

    #[inline]
    fn record(&mut self, second: u64, outcome: u8) {
        self.advance(second);
        self.buckets[self.head].counts.add(outcome);
        self.total.add(outcome);
    }

    /// What the window would hold at `second`, without moving it.
    fn counts_at(&self, second: u64) -> WindowCounts {
        let latest = self.buckets[self.head].second;
        if second <= latest {
            return self.total;
        }
        let n = self.size as u64;
        let d = second - latest;
        if d >= n {
            return WindowCounts::default();
        }
        let mut c = self.total;
        for k in 1..=d as usize {
            c.subtract(self.live((self.head + k) % n as usize));
        }
        c
    }
}

#[derive(Clone, Debug)]
enum ClosedWindow {
    Count(CountRing),
    Time(TimeRing),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Closed,
    Open {
        /// Calls are let through strictly after this.
        retry_at: SimTime,
    },
    HalfOpen {
        /// Probe permits left. Ignored calls give them back, without a cap.
        permits: u32,
        /// When `max_wait_in_half_open` runs out.
        deadline: Option<SimTime>,
    },
}

/// Which window results go to: OPEN keeps the one of the state it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metrics {
    Closed,
    HalfOpen,
}

/// What [`CircuitBreaker`] decided about a window after a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    BelowMinimumCalls,
    BelowThresholds,
    Exceeded,
}

/// A resilience4j circuit breaker on virtual time. See the
/// [module docs](crate::call::breaker) for the protocol and the exact semantics.
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    phase: Phase,
    closed: ClosedWindow,
    closed_min_calls: u64,
    half_open: CountRing,
    half_open_min_calls: u64,
    metrics: Metrics,
    failure_threshold: f32,
    slow_threshold: f32,
    /// Consecutive openings; 0 while CLOSED.
    attempts: u32,
    /// `w_attempts` of the backoff, before the cap \[ms\].
    wait_ms: i64,
    since: SimTime,
    time_in: [SimDuration; 3],
    not_permitted: u64,
    transitions: u64,
    openings: u64,
    log: Vec<Transition>,
}

#[inline]
fn second_of(t: SimTime) -> u64 {
    t.0 / NS_PER_S
}

impl CircuitBreaker {
    /// A CLOSED breaker created at time zero.
    ///
    /// Check `config` with [`BreakerConfig::validate`] first. This never panics: sizes out of
    /// range are clamped into `1..=MAX_WINDOW_SIZE`, and other invalid values give a breaker
    /// that behaves oddly (a NaN threshold never opens) rather than an error.
    pub fn new(config: BreakerConfig) -> Self {
        Self::starting_at(config, SimTime::ZERO)
    }

    /// A CLOSED breaker created at `now`; time in state is counted from there.
    pub fn starting_at(config: BreakerConfig, now: SimTime) -> Self {
        let clamp = |n: u32| n.clamp(1, MAX_WINDOW_SIZE);
        let minimum_calls = u64::from(config.minimum_calls);
        let (closed, closed_min_calls) = match config.window {
            Window::Count(n) => {
                let n = clamp(n);
                (
                    ClosedWindow::Count(CountRing::new(n as usize)),
                    minimum_calls.min(u64::from(n)),
                )
            }
            Window::Time(n) => (
                ClosedWindow::Time(TimeRing::new(clamp(n) as usize, second_of(now))),
                minimum_calls,
            ),
        };
        let p = clamp(config.half_open_calls);
        CircuitBreaker {
            failure_threshold: config.failure_rate_threshold as f32,
            slow_threshold: config.slow_call_rate_threshold as f32,
            wait_ms: to_ms(config.wait_in_open),
            config,
            phase: Phase::Closed,
            closed,
            closed_min_calls,
            half_open: CountRing::new(p as usize),
            half_open_min_calls: minimum_calls.min(u64::from(p)),
            metrics: Metrics::Closed,
            attempts: 0,
            since: now,
            time_in: [SimDuration::ZERO; 3],
            not_permitted: 0,
            transitions: 0,
            openings: 0,
            log: Vec::new(),
        }
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &BreakerConfig {
        &self.config
    }

    /// The current state. Without automatic transition it stays [`BreakerState::Open`] after
    /// the wait until a call arrives, as in resilience4j.
    pub fn state(&self) -> BreakerState {
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Consecutive openings without a close in between (the `attempt` of the open wait
    /// function); 0 while CLOSED.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// While OPEN, the end of the wait: calls pass strictly after it.
    pub fn open_until(&self) -> Option<SimTime> {
        match self.phase {
            Phase::Open { retry_at } => Some(retry_at),
            _ => None,
        }
    }

    /// Asks for a permit at `now`; `false` means `CallNotPermitted` (counted in
    /// [`CircuitBreaker::not_permitted`]).
    ///
    /// CLOSED always permits. OPEN rejects until `now` is strictly after the end of the wait;
    /// the first call after that turns the breaker HALF_OPEN and takes a probe permit.
    /// HALF_OPEN permits while probe permits are left.
    pub fn try_acquire(&mut self, now: SimTime) -> bool {
        match self.phase {
            Phase::Closed => true,
            Phase::Open { retry_at } => {
                if now > retry_at {
                    self.enter_half_open(now);
                    self.take_probe_permit()
                } else {
                    self.not_permitted += 1;
                    false
                }
            }
            Phase::HalfOpen { .. } => self.take_probe_permit(),
        }
    }

    fn take_probe_permit(&mut self) -> bool {
        if let Phase::HalfOpen { permits, .. } = &mut self.phase {
            if *permits > 0 {
                *permits -= 1;
                return true;
            }
        }
        self.not_permitted += 1;
        false
    }

    /// Records the result of a permitted call that ended at `now` after `duration`, failed or
    /// not, and checks the thresholds.
    ///
    /// CLOSED opens when the window has enough results and a rate reaches its threshold.
    /// HALF_OPEN decides once its window holds `min(minimum_calls, half_open_calls)` results:
    /// OPEN again if a rate reaches its threshold, CLOSED otherwise. While OPEN the result is
    /// recorded but changes nothing.
    pub fn on_result(&mut self, now: SimTime, duration: SimDuration, failed: bool) {
        let outcome =
            u8::from(failed) * FAILED + u8::from(duration > self.config.slow_call_duration) * SLOW;
        match self.phase {
            Phase::Closed => {
                self.record_closed(now, outcome);
                if self.verdict_closed() == Verdict::Exceeded {
                    self.enter_open(now);
                }
            }
            Phase::Open { .. } => match self.metrics {
                Metrics::Closed => self.record_closed(now, outcome),
                Metrics::HalfOpen => self.half_open.record(outcome),
            },
            Phase::HalfOpen { .. } => {
                self.half_open.record(outcome);
                match self.verdict(self.half_open.total, self.half_open_min_calls) {
                    Verdict::BelowMinimumCalls => {}
                    Verdict::Exceeded => self.enter_open(now),
                    Verdict::BelowThresholds => self.enter_closed(now),
                }
            }
        }
    }

    /// A permitted call whose outcome the breaker ignores (resilience4j `ignoreExceptions`):
    /// neither success nor failure. In HALF_OPEN it gives a probe permit back.
    pub fn on_ignored(&mut self) {
        if let Phase::HalfOpen { permits, .. } = &mut self.phase {
            *permits = permits.saturating_add(1);
        }
    }

    /// When the engine must call [`CircuitBreaker::on_timer`] next, if ever: the end of the
    /// open wait with automatic transition, or the end of `max_wait_in_half_open`.
    pub fn next_timer(&self) -> Option<SimTime> {
        match self.phase {
            Phase::Open { retry_at } if self.config.automatic_transition => Some(retry_at),
            Phase::HalfOpen { deadline, .. } => deadline,
            _ => None,
        }
    }

    /// Fires the timer of [`CircuitBreaker::next_timer`]: OPEN → HALF_OPEN (automatic
    /// transition) or HALF_OPEN → `after_max_wait_in_half_open`. Does nothing if `now` is
    /// before the current timer or the state has no timer (a stale timer).
    pub fn on_timer(&mut self, now: SimTime) {
        if self.next_timer().is_none_or(|t| now < t) {
            return;
        }
        match self.phase {
            Phase::Open { .. } => self.enter_half_open(now),
            Phase::HalfOpen { .. } => match self.config.after_max_wait_in_half_open {
                AfterHalfOpenWait::Open => self.enter_open(now),
                AfterHalfOpenWait::Closed => self.enter_closed(now),
            },
            Phase::Closed => {}
        }
    }

    /// What the current window holds at `now`: the closed window, the half-open window, or
    /// while OPEN the window it opened from. A TIME window is read as of `now` (old buckets
    /// left out) without being moved.
    pub fn window_counts(&self, now: SimTime) -> WindowCounts {
        let closed = match self.phase {
            Phase::Closed => true,
            Phase::HalfOpen { .. } => false,
            Phase::Open { .. } => self.metrics == Metrics::Closed,
        };
        if !closed {
            return self.half_open.total;
        }
        match &self.closed {
            ClosedWindow::Count(ring) => ring.total,
            ClosedWindow::Time(ring) => ring.counts_at(second_of(now)),
        }
    }

    /// Time spent in each state up to `now` \[ns\]: `[closed, open, half_open]`. They add up
    /// to the time since the breaker was created. Without automatic transition, OPEN lasts
    /// until the first call after the wait, as resilience4j's `getState()` reports it.
    pub fn time_in_states(&self, now: SimTime) -> [SimDuration; 3] {
        let mut time_in = self.time_in;
        let current = &mut time_in[self.state().index()];
        *current = SimDuration(current.0.saturating_add(now.since(self.since).0));
        time_in
    }

    /// Calls refused so far, in OPEN or for lack of a half-open permit \[calls\].
    pub fn not_permitted(&self) -> u64 {
        self.not_permitted
    }

    /// State changes so far, exact even beyond the log's cap.
    pub fn transitions(&self) -> u64 {
        self.transitions
    }

    /// Transitions into OPEN so far.
    pub fn openings(&self) -> u64 {
        self.openings
    }

    /// The first [`TRANSITION_LOG_CAP`] transitions, in order; [`CircuitBreaker::transitions`]
    /// says how many there were in all.
    pub fn log(&self) -> &[Transition] {
        &self.log
    }

    fn record_closed(&mut self, now: SimTime, outcome: u8) {
        match &mut self.closed {
            ClosedWindow::Count(ring) => ring.record(outcome),
            ClosedWindow::Time(ring) => ring.record(second_of(now), outcome),
        }
    }

    fn verdict_closed(&self) -> Verdict {
        let total = match &self.closed {
            ClosedWindow::Count(ring) => ring.total,
            ClosedWindow::Time(ring) => ring.total,
        };
        self.verdict(total, self.closed_min_calls)
    }

    /// `CircuitBreakerMetrics.checkIfThresholdsExceeded`.
    fn verdict(&self, counts: WindowCounts, min_calls: u64) -> Verdict {
        if counts.calls == 0 || counts.calls < min_calls {
            Verdict::BelowMinimumCalls
        } else if counts.failure_rate() >= self.failure_threshold
            || counts.slow_call_rate() >= self.slow_threshold
        {
            Verdict::Exceeded
        } else {
            Verdict::BelowThresholds
        }
    }

    fn transition(&mut self, now: SimTime, phase: Phase) {
        let from = self.state();
        let spent = &mut self.time_in[from.index()];
        *spent = SimDuration(spent.0.saturating_add(now.since(self.since).0));
        self.since = now;
        self.phase = phase;
        self.transitions += 1;
        if self.log.len() < TRANSITION_LOG_CAP {
            self.log.push(Transition {
                at: now,
                from,
                to: self.state(),
            });
        }
    }

    /// OPEN with attempts + 1 (CLOSED has 0), keeping the current window for late results.
    fn enter_open(&mut self, now: SimTime) {
        self.attempts = self.attempts.saturating_add(1);
        self.wait_ms = if self.attempts == 1 {
            to_ms(self.config.wait_in_open)
        } else {
            backoff_step(self.wait_ms, self.config.wait_multiplier)
        };
        let cap = self.config.max_wait_in_open.map_or(i64::MAX, to_ms);
        let retry_at = now.after(from_ms(self.wait_ms.min(cap)));
        self.openings += 1;
        self.transition(now, Phase::Open { retry_at });
    }

    /// HALF_OPEN with the same attempts, P permits and a fresh COUNT window of size P.
    fn enter_half_open(&mut self, now: SimTime) {
        self.half_open.reset();
        self.metrics = Metrics::HalfOpen;
        let deadline = self
            .config
            .max_wait_in_half_open
            .map(to_ms)
            .filter(|&ms| ms >= 1)
            .map(|ms| now.after(from_ms(ms)));
        let permits = self.half_open.size as u32;
        self.transition(now, Phase::HalfOpen { permits, deadline });
    }

    /// CLOSED with a fresh window and attempts reset.
    fn enter_closed(&mut self, now: SimTime) {
        match &mut self.closed {
            ClosedWindow::Count(ring) => ring.reset(),
            ClosedWindow::Time(ring) => ring.reset(second_of(now)),
        }
        self.metrics = Metrics::Closed;
        self.attempts = 0;
        self.transition(now, Phase::Closed);
    }
}

#[cfg(test)]
mod tests {
    //! Each test pins one rule of resilience4j's breaker, as docs/semantics.md, *Circuit
    //! breaker*, states it (the comment above each test names the resilience4j setting).
    use super::*;

    const MS: u64 = NS_PER_MS;
    const S: u64 = NS_PER_S;

    fn t(ns: u64) -> SimTime {
        SimTime(ns)
    }

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// A fast call (never slow under the default 60 s threshold).
    const FAST: SimDuration = SimDuration(MS);

    /// Count window of `size`, `min` minimum calls, 50 %, 1 s open wait, `p` probes.
    fn count_cfg(size: u32, min: u32, p: u32) -> BreakerConfig {
        BreakerConfig {
            window: Window::Count(size),
            minimum_calls: min,
            half_open_calls: p,
            wait_in_open: SimDuration::from_secs(1),
            ..BreakerConfig::default()
        }
    }

    /// Feeds results at `now`: `F` failed, `S` succeeded (fast), `W` slow success, `X` slow
    /// failure; asserts each call was permitted first.
    fn feed(cb: &mut CircuitBreaker, now: SimTime, script: &str) {
        for c in script.chars() {
            let (dur, failed) = match c {
                'F' => (FAST, true),
                'S' => (FAST, false),
                'W' => (SimDuration::from_secs(61), false),
                'X' => (SimDuration::from_secs(61), true),
                _ => panic!("bad script char {c}"),
            };
            assert!(cb.try_acquire(now), "call {c} was not permitted");
            cb.on_result(now, dur, failed);
        }
    }

    /// Opens a COUNT breaker (window 1, min 1) with one failure at `now`.
    fn opened(mut cfg: BreakerConfig, now: SimTime) -> CircuitBreaker {
        cfg.window = Window::Count(1);
        cfg.minimum_calls = cfg.minimum_calls.max(1);
        let mut cb = CircuitBreaker::starting_at(cfg, now);
        feed(&mut cb, now, "F");
        assert_eq!(cb.state(), BreakerState::Open);
        cb
    }

    /// Bytes the breaker's two windows have allocated.
    fn allocated(cb: &CircuitBreaker) -> usize {
        let closed = match &cb.closed {
            ClosedWindow::Count(r) => r.slots.capacity(),
            ClosedWindow::Time(r) => r.buckets.capacity() * std::mem::size_of::<Bucket>(),
        };
        closed + cb.half_open.slots.capacity()
    }

    #[test]
    fn a_huge_window_allocates_only_what_its_results_fill() {
        let huge = BreakerConfig {
            window: Window::Count(MAX_WINDOW_SIZE),
            half_open_calls: MAX_WINDOW_SIZE,
            minimum_calls: MAX_WINDOW_SIZE,
            ..BreakerConfig::default()
        };
        assert_eq!(huge.full_window_bytes(), 2 * u64::from(MAX_WINDOW_SIZE));
        let mut cb = CircuitBreaker::new(huge.clone());
        assert_eq!(allocated(&cb), 0, "a fresh breaker holds no slots");
        feed(&mut cb, t(0), &"S".repeat(10));
        assert!(
            allocated(&cb) <= 64,
            "{} bytes for 10 results",
            allocated(&cb)
        );
        // 2.5 windows' worth: the ring stops at its size and holds the last N results.
        for i in 0..5 * MAX_WINDOW_SIZE / 2 {
            cb.on_result(t(0), FAST, i % 4 == 0);
        }
        assert_eq!(allocated(&cb), MAX_WINDOW_SIZE as usize);
        let c = cb.window_counts(t(0));
        assert_eq!(c.calls, u64::from(MAX_WINDOW_SIZE));
        assert_eq!(c.failed, u64::from(MAX_WINDOW_SIZE) / 4);

        // A TIME window of a million seconds: a bucket per second reached, and a gap longer
        // than the window empties it without stepping through a million buckets.
        let mut cb = CircuitBreaker::new(BreakerConfig {
            window: Window::Time(MAX_WINDOW_SIZE),
            ..huge
        });
        assert!(allocated(&cb) <= std::mem::size_of::<Bucket>());
        for s in 0..100 {
            feed(&mut cb, t(s * S), "F");
        }
        assert!(allocated(&cb) <= 128 * std::mem::size_of::<Bucket>());
        assert_eq!(cb.window_counts(t(99 * S)).calls, 100);
        feed(&mut cb, t(5_000_000 * S), "S");
        let c = cb.window_counts(t(5_000_000 * S));
        assert_eq!((c.calls, c.failed), (1, 0));
        assert!(allocated(&cb) <= 128 * std::mem::size_of::<Bucket>());
    }

    /// A result of the reference windows below: (second, failed, slow).
    type Result3 = (u64, bool, bool);

    /// What a window of the last `n` results holds, counted from scratch.
    fn count_reference(results: &[Result3], n: usize) -> WindowCounts {
        let mut c = WindowCounts::default();
        for &(_, failed, slow) in results.iter().rev().take(n) {
            c.add(u8::from(failed) | (u8::from(slow) << 1));
        }
        c
    }

    /// What a window of the seconds (`now` − n, `now`] holds, counted from scratch.
    fn time_reference(results: &[Result3], n: u64, now: u64) -> WindowCounts {
        let mut c = WindowCounts::default();
        for &(second, failed, slow) in results {
            if second + n > now {
                c.add(u8::from(failed) | (u8::from(slow) << 1));
            }
        }
        c
    }

    proptest::proptest! {
        /// The lazily grown rings count exactly what a window recounted from scratch holds,
        /// across resets, wrap-arounds and gaps longer than the window.
        #[test]
        fn lazy_rings_match_a_window_counted_from_scratch(
            size in 1usize..12,
            ops in proptest::collection::vec((0u64..30, proptest::bool::ANY, proptest::bool::ANY, 0u8..20), 0..200),
        ) {
            let mut count = CountRing::new(size);
            let mut time = TimeRing::new(size, 0);
            let (mut since_count, mut since_time): (Vec<Result3>, Vec<Result3>) = (vec![], vec![]);
            let mut second = 0u64;
            for (step, failed, slow, action) in ops {
                // Mostly small steps, sometimes a gap longer than the window.
                second += if step >= 27 { step * 3 } else { step % 3 };
                if action == 0 {
                    count.reset();
                    since_count.clear();
                    time.reset(second);
                    since_time.clear();
                    continue;
                }
                let outcome = u8::from(failed) | (u8::from(slow) << 1);
                count.record(outcome);
                since_count.push((second, failed, slow));
                time.record(second, outcome);
                since_time.push((second, failed, slow));
                proptest::prop_assert_eq!(count.total, count_reference(&since_count, size));
                proptest::prop_assert!(count.slots.len() <= size);
                proptest::prop_assert_eq!(time.total, time_reference(&since_time, size as u64, second));
                proptest::prop_assert!(time.buckets.len() <= size);
                for ahead in 0..=size as u64 {
                    proptest::prop_assert_eq!(
                        time.counts_at(second + ahead),
                        time_reference(&since_time, size as u64, second + ahead)
                    );
                }
            }
        }
    }

    // resilience4j's defaults (`CircuitBreakerConfig.ofDefaults()`).
    #[test]
    fn defaults_are_resilience4j_defaults_and_valid() {
        let c = BreakerConfig::default();
        assert_eq!(c.window, Window::Count(100));
        assert_eq!(c.failure_rate_threshold, 50.0);
        assert_eq!(c.slow_call_rate_threshold, 100.0);
        assert_eq!(c.slow_call_duration, SimDuration::from_secs(60));
        assert_eq!(c.minimum_calls, 100);
        assert_eq!(c.wait_in_open, SimDuration::from_secs(60));
        assert_eq!(c.half_open_calls, 10);
        assert!(!c.automatic_transition);
        assert_eq!(c.max_wait_in_half_open, None);
        assert_eq!(c.after_max_wait_in_half_open, AfterHalfOpenWait::Open);
        assert_eq!(c.validate(), Ok(()));
        assert!(c.problems().is_empty());
        let cb = CircuitBreaker::new(c);
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.attempts(), 0);
        assert_eq!(cb.next_timer(), None);
    }

    // Opens when the failure rate is ≥ the threshold: the exact comparison.
    #[test]
    fn opens_exactly_when_failure_rate_reaches_threshold() {
        let mut cb = CircuitBreaker::new(count_cfg(10, 10, 10));
        feed(&mut cb, t(0), "SSSSSFFFF");
        assert_eq!(cb.state(), BreakerState::Closed, "9 calls: below minimum");
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open, "5 of 10 = 50% ≥ 50%");
        assert_eq!(cb.attempts(), 1);
        assert_eq!(cb.openings(), 1);

        let mut cb = CircuitBreaker::new(count_cfg(10, 10, 10));
        feed(&mut cb, t(0), "SSSSSSFFFF");
        assert_eq!(cb.window_counts(t(0)).failed, 4);
        assert_eq!(cb.state(), BreakerState::Closed, "4 of 10 = 40% < 50%");
    }

    // Rates are f32, as `SnapshotImpl`: 1 of 3 is 33.333332f32.
    #[test]
    fn rates_are_compared_in_f32() {
        let third = WindowCounts {
            calls: 3,
            failed: 1,
            slow: 0,
        }
        .failure_rate();
        assert_eq!(third, 100.0f32 / 3.0);
        // Exact arithmetic would say 33.33…% < 33.3333334% and stay closed; in f32 the
        // threshold rounds to the same float as the rate, and ≥ opens.
        for (threshold, opens) in [(33.3333334, true), (33.33334, false)] {
            let cfg = BreakerConfig {
                failure_rate_threshold: threshold,
                ..count_cfg(3, 3, 1)
            };
            let mut cb = CircuitBreaker::new(cfg);
            feed(&mut cb, t(0), "SSF");
            assert_eq!(cb.state() == BreakerState::Open, opens, "{threshold}");
        }
    }

    // Below the minimum-calls gate there is no transition even at a 100 % failure rate.
    #[test]
    fn no_transition_below_minimum_calls_even_at_full_failure() {
        let mut cb = CircuitBreaker::new(count_cfg(100, 10, 10));
        feed(&mut cb, t(0), "FFFFFFFFF");
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.window_counts(t(0)).failed, 9);
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open);
    }

    // minimumNumberOfCalls: COUNT_BASED uses min(minCalls, windowSize); TIME does not.
    #[test]
    fn count_window_uses_min_of_minimum_calls_and_size() {
        let mut cb = CircuitBreaker::new(count_cfg(5, 100, 10));
        feed(&mut cb, t(0), "FFFF");
        assert_eq!(cb.state(), BreakerState::Closed);
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open, "min(100, 5) = 5 calls");

        let cfg = BreakerConfig {
            window: Window::Time(5),
            ..count_cfg(5, 100, 10)
        };
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), &"F".repeat(99));
        assert_eq!(cb.state(), BreakerState::Closed, "TIME keeps 100");
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open);
    }

    // slowCallDurationThreshold: slow if duration > threshold (strict), for successes
    // and failures alike.
    #[test]
    fn slow_calls_use_strict_greater_than() {
        let cfg = BreakerConfig {
            slow_call_duration: ms(100),
            failure_rate_threshold: 100.0,
            ..count_cfg(2, 2, 10)
        };
        let mut cb = CircuitBreaker::new(cfg.clone());
        for _ in 0..2 {
            assert!(cb.try_acquire(t(0)));
            cb.on_result(t(0), ms(100), false);
        }
        assert_eq!(cb.window_counts(t(0)).slow, 0, "exactly at the threshold");
        assert_eq!(cb.state(), BreakerState::Closed);

        let mut cb = CircuitBreaker::new(cfg);
        for _ in 0..2 {
            assert!(cb.try_acquire(t(0)));
            cb.on_result(t(0), SimDuration(ms(100).0 + 1), false);
        }
        assert_eq!(
            cb.state(),
            BreakerState::Open,
            "1ns over: slow; 100% ≥ 100%"
        );

        // A slow failure counts as slow too (and as failed).
        let mut cb = CircuitBreaker::new(BreakerConfig {
            failure_rate_threshold: 100.0,
            slow_call_rate_threshold: 50.0,
            ..count_cfg(2, 2, 10)
        });
        feed(&mut cb, t(0), "SX");
        assert_eq!(cb.state(), BreakerState::Open);
        let c = cb.window_counts(t(0));
        assert_eq!((c.calls, c.failed, c.slow), (2, 1, 1));
    }

    // slowCallRateThreshold: opens on slow calls alone, with no failure.
    #[test]
    fn slow_call_rate_opens_without_failures() {
        let cfg = BreakerConfig {
            slow_call_rate_threshold: 50.0,
            failure_rate_threshold: 100.0,
            ..count_cfg(4, 4, 10)
        };
        let mut cb = CircuitBreaker::new(cfg.clone());
        feed(&mut cb, t(0), "SSSW");
        assert_eq!(cb.state(), BreakerState::Closed, "25% slow");
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), "SSWW");
        assert_eq!(cb.state(), BreakerState::Open, "50% slow ≥ 50%");
        assert_eq!(cb.window_counts(t(0)).failed, 0);
    }

    // COUNT_BASED window: the oldest is subtracted when overwritten.
    #[test]
    fn count_ring_evicts_the_oldest() {
        let mut cb = CircuitBreaker::new(count_cfg(4, 4, 10));
        feed(&mut cb, t(0), "FSSS");
        assert_eq!(cb.state(), BreakerState::Closed, "25%");
        feed(&mut cb, t(0), "S");
        let c = cb.window_counts(t(0));
        assert_eq!((c.calls, c.failed), (4, 0), "the F fell out");
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Closed, "SSSF: 25%");
        feed(&mut cb, t(0), "F");
        // Last four are S S F F = 50%; over all seven it would be 3/7 = 43%.
        assert_eq!(cb.state(), BreakerState::Open);
    }

    // TIME_BASED window: one-second buckets; the window is the current partial second
    // plus the previous N−1 whole seconds.
    #[test]
    fn time_window_drops_buckets_older_than_n_seconds() {
        let cfg = BreakerConfig {
            window: Window::Time(3),
            ..count_cfg(1, 3, 10)
        };
        let mut cb = CircuitBreaker::new(cfg.clone());
        feed(&mut cb, t(S / 2), "F"); // second 0
        feed(&mut cb, t(S + S / 2), "F"); // second 1
        assert_eq!(
            cb.window_counts(t(3 * S - 1)).calls,
            2,
            "t=2.999s: seconds 0..2"
        );
        assert_eq!(cb.window_counts(t(3 * S)).calls, 1, "t=3s: second 0 is out");
        assert_eq!(cb.window_counts(t(4 * S)).calls, 0);
        assert_eq!(cb.window_counts(t(100 * S)).calls, 0);
        feed(&mut cb, t(3 * S + S / 2), "F"); // second 3: window = seconds 1..3
        assert_eq!(cb.window_counts(t(3 * S + S / 2)).calls, 2);
        assert_eq!(
            cb.state(),
            BreakerState::Closed,
            "only 2 of 3 in the window"
        );

        // The same three failures within 3 s open it.
        let mut cb = CircuitBreaker::new(cfg.clone());
        feed(&mut cb, t(S / 2), "F");
        feed(&mut cb, t(S + S / 2), "F");
        feed(&mut cb, t(2 * S + S / 2), "F");
        assert_eq!(cb.state(), BreakerState::Open);

        // A long idle gap empties every bucket (moves at most N buckets).
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), "FF");
        feed(&mut cb, t(1_000 * S), "F");
        let c = cb.window_counts(t(1_000 * S));
        assert_eq!((c.calls, c.failed), (1, 1));
        assert_eq!(cb.state(), BreakerState::Closed);
    }

    // With low traffic a TIME_BASED breaker may never open.
    #[test]
    fn time_window_at_low_traffic_never_reaches_minimum_calls() {
        let cfg = BreakerConfig {
            window: Window::Time(10),
            ..count_cfg(1, 20, 10)
        };
        let mut cb = CircuitBreaker::new(cfg);
        // One failure per second for an hour: at most 10 in the window, never 20.
        for s in 0..3600 {
            feed(&mut cb, t(s * S + 123), "F");
        }
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.window_counts(t(3599 * S)).calls, 10);
        assert_eq!(cb.transitions(), 0);
    }

    // OPEN: permit only if now > retryAt (strictly after).
    #[test]
    fn open_rejects_until_strictly_after_the_wait() {
        let t0 = t(5 * S);
        let mut cb = opened(count_cfg(1, 1, 3), t0);
        let end = t0.after(SimDuration::from_secs(1));
        assert_eq!(cb.open_until(), Some(end));
        assert!(!cb.try_acquire(t0));
        assert!(!cb.try_acquire(t(end.0 - 1)));
        assert!(
            !cb.try_acquire(end),
            "exactly at the end of the wait: still rejected"
        );
        assert_eq!(cb.state(), BreakerState::Open);
        assert_eq!(cb.not_permitted(), 3);
        assert!(cb.try_acquire(t(end.0 + 1)), "1ns later");
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        assert_eq!(cb.attempts(), 1, "HALF_OPEN keeps the attempts");
        assert_eq!(
            cb.log().last(),
            Some(&Transition {
                at: t(end.0 + 1),
                from: BreakerState::Open,
                to: BreakerState::HalfOpen
            })
        );
    }

    // The switch is lazy by default; getState() says OPEN until a call arrives.
    #[test]
    fn lazy_transition_needs_a_call() {
        let mut cb = opened(count_cfg(1, 1, 3), t(0));
        assert_eq!(
            cb.next_timer(),
            None,
            "no timer without automatic transition"
        );
        cb.on_timer(t(3600 * S)); // a stray timer changes nothing
        assert_eq!(cb.state(), BreakerState::Open);
        // Results of calls admitted earlier do not move it either.
        cb.on_result(t(3600 * S), FAST, false);
        assert_eq!(cb.state(), BreakerState::Open);
        assert!(cb.try_acquire(t(3600 * S)));
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        let [_, open, _] = cb.time_in_states(t(3600 * S));
        assert_eq!(open, SimDuration::from_secs(3600));
    }

    // automaticTransitionFromOpenToHalfOpenEnabled: a timer at the wait, even with no
    // traffic.
    #[test]
    fn automatic_transition_by_timer() {
        let cfg = BreakerConfig {
            automatic_transition: true,
            ..count_cfg(1, 1, 3)
        };
        let t0 = t(7 * MS);
        let mut cb = opened(cfg, t0);
        let end = t0.after(SimDuration::from_secs(1));
        assert_eq!(cb.next_timer(), Some(end));
        cb.on_timer(t(end.0 - 1)); // early (stale) timer: nothing
        assert_eq!(cb.state(), BreakerState::Open);
        cb.on_timer(end);
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        assert_eq!(cb.next_timer(), None);
        assert_eq!(cb.log().last().map(|tr| tr.at), Some(end));
        // The old timer firing again does nothing.
        cb.on_timer(end);
        assert_eq!(cb.transitions(), 2);
        // All P permits are still there.
        for _ in 0..3 {
            assert!(cb.try_acquire(end));
        }
        assert!(!cb.try_acquire(end));
    }

    // HALF_OPEN: counter > 0 → allow, else reject; burst at the switch (#1432): exactly P
    // pass, the lazy switching call included.
    #[test]
    fn half_open_allows_exactly_p_permits() {
        let mut cb = opened(count_cfg(1, 1, 3), t(0));
        let after = t(S + 1);
        let permitted = (0..10).filter(|_| cb.try_acquire(after)).count();
        assert_eq!(permitted, 3);
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        assert_eq!(cb.not_permitted(), 7);
    }

    // resilience4j issues #1351, #1523: half-open decides after min(minCalls, P) results.
    #[test]
    fn half_open_decides_after_min_of_minimum_calls_and_p() {
        // minimum_calls 2, P 10: two successes close it.
        let mut cb = opened(count_cfg(1, 2, 10), t(0));
        let now = t(S + 1);
        for _ in 0..10 {
            assert!(cb.try_acquire(now));
        }
        cb.on_result(now, FAST, false);
        assert_eq!(cb.state(), BreakerState::HalfOpen, "1 of min(2, 10)");
        cb.on_result(now, FAST, false);
        assert_eq!(cb.state(), BreakerState::Closed, "decided after 2, not 10");

        // One failure in two is 50% ≥ 50%: OPEN again.
        let mut cb = opened(count_cfg(1, 2, 10), t(0));
        feed(&mut cb, now, "SF");
        assert_eq!(cb.state(), BreakerState::Open);
        assert_eq!(cb.attempts(), 2);

        // minimum_calls ≥ P: it waits for all P.
        let mut cb = opened(count_cfg(1, 100, 3), t(0));
        feed(&mut cb, now, "SS");
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        feed(&mut cb, now, "S");
        assert_eq!(cb.state(), BreakerState::Closed);
    }

    // HALF_OPEN failure → OPEN(n+1), next wait f(n+1): ofExponentialBackoff with each step
    // truncated to whole ms, then the cap; attempts grow across cycles.
    #[test]
    fn half_open_failure_reopens_with_a_longer_wait() {
        let cfg = BreakerConfig {
            wait_multiplier: 2.0,
            max_wait_in_open: Some(SimDuration::from_secs(5)),
            ..count_cfg(1, 1, 1)
        };
        let mut cb = opened(cfg, t(0));
        let mut now = t(0);
        let mut waits = vec![];
        for _ in 0..5 {
            let end = cb.open_until().unwrap();
            waits.push(end.since(now).0 / MS);
            now = t(end.0 + 1);
            feed(&mut cb, now, "F");
        }
        assert_eq!(waits, [1000, 2000, 4000, 5000, 5000]);
        assert_eq!(cb.attempts(), 6);
        assert_eq!(cb.openings(), 6);

        // A fixed wait stays fixed.
        let mut cb = opened(count_cfg(1, 1, 1), t(0));
        let end = cb.open_until().unwrap();
        feed(&mut cb, t(end.0 + 1), "F");
        assert_eq!(cb.open_until(), Some(t(end.0 + 1 + S)));
    }

    // IntervalFunction: ⌊·⌋ at every step (not a closed-form power): 3, 4, 6, 9, 13, 19; and 1ms · 1.5
    // stays 1ms. The breaker's incremental wait agrees with `open_wait`.
    #[test]
    fn open_wait_truncates_each_step_to_whole_ms() {
        let cfg = BreakerConfig {
            wait_in_open: ms(3),
            wait_multiplier: 1.5,
            ..count_cfg(1, 1, 1)
        };
        let waits: Vec<u64> = (1..=6).map(|a| cfg.open_wait(a).0 / MS).collect();
        assert_eq!(waits, [3, 4, 6, 9, 13, 19]);
        assert_eq!(cfg.open_wait(0), cfg.open_wait(1));
        let one = BreakerConfig {
            wait_in_open: ms(1),
            ..cfg.clone()
        };
        assert_eq!(one.open_wait(50), ms(1));
        // Sub-ms parts of the configured wait are dropped, as Duration.toMillis().
        let frac = BreakerConfig {
            wait_in_open: SimDuration(2 * MS + 999_999),
            ..count_cfg(1, 1, 1)
        };
        assert_eq!(frac.open_wait(1), ms(2));
        // Huge attempt counts saturate instead of overflowing.
        let big = BreakerConfig {
            wait_multiplier: 10.0,
            ..cfg.clone()
        };
        assert_eq!(big.open_wait(1000), from_ms(i64::MAX));

        let mut cb = opened(cfg.clone(), t(0));
        let mut now = t(0);
        for attempt in 1..=40 {
            let end = cb.open_until().unwrap();
            assert_eq!(end.since(now), cfg.open_wait(attempt), "attempt {attempt}");
            now = t(end.0 + 1);
            feed(&mut cb, now, "F");
        }
    }

    // HALF_OPEN success → CLOSED with a fresh empty window and attempts reset.
    #[test]
    fn half_open_success_closes_with_a_fresh_window() {
        let cfg = BreakerConfig {
            wait_multiplier: 2.0,
            ..count_cfg(4, 4, 1)
        };
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), "SSFF");
        assert_eq!(cb.state(), BreakerState::Open);
        // A late result while OPEN lands in the old window and changes nothing.
        cb.on_result(t(1), FAST, false);
        assert_eq!(cb.window_counts(t(1)).calls, 4);
        assert_eq!(cb.state(), BreakerState::Open);
        let now = t(S + 1);
        feed(&mut cb, now, "S");
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.attempts(), 0);
        assert_eq!(cb.window_counts(now), WindowCounts::default());
        // The old failures are gone: it takes a full new window to open again.
        feed(&mut cb, now, "FFF");
        assert_eq!(cb.state(), BreakerState::Closed);
        feed(&mut cb, now, "F");
        assert_eq!(cb.state(), BreakerState::Open);
        // Attempts restarted at 1: the wait is the initial one again, not 2 s.
        assert_eq!(cb.open_until(), Some(now.after(SimDuration::from_secs(1))));
    }

    // A fresh TIME window after closing ignores buckets of the previous one.
    #[test]
    fn closing_resets_a_time_window() {
        let cfg = BreakerConfig {
            window: Window::Time(10),
            ..count_cfg(1, 2, 1)
        };
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), "S");
        feed(&mut cb, t(S), "F"); // 1 of 2 = 50%
        assert_eq!(cb.state(), BreakerState::Open);
        feed(&mut cb, t(2 * S + 1), "S"); // the probe closes it
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.window_counts(t(2 * S + 1)).calls, 0);
        // Seconds 0 and 1 of the old window must not come back when the head passes them.
        feed(&mut cb, t(5 * S), "F");
        assert_eq!(cb.window_counts(t(5 * S)).calls, 1);
        feed(&mut cb, t(9 * S), "S");
        assert_eq!(cb.state(), BreakerState::Open, "1 of 2 = 50%");
        let c = cb.window_counts(t(9 * S));
        assert_eq!((c.calls, c.failed), (2, 1));
    }

    // ignoreExceptions: an ignored call releases its permit.
    #[test]
    fn ignored_call_returns_its_half_open_permit() {
        let mut cb = opened(count_cfg(1, 1, 1), t(0));
        let now = t(S + 1);
        assert!(cb.try_acquire(now));
        assert!(!cb.try_acquire(now));
        cb.on_ignored();
        assert!(cb.try_acquire(now), "the permit came back");
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        assert_eq!(cb.window_counts(now).calls, 0, "ignored: not recorded");

        // In CLOSED and OPEN an ignored call changes nothing.
        let mut cb = CircuitBreaker::new(count_cfg(2, 2, 1));
        cb.on_ignored();
        assert_eq!(cb.window_counts(t(0)).calls, 0);
        let mut cb = opened(count_cfg(1, 1, 1), t(0));
        cb.on_ignored();
        assert!(!cb.try_acquire(t(1)));
    }

    // maxWaitDurationInHalfOpenState ≥ 1 ms: timer → transitionToStateAfterWaitDuration
    // (OPEN uses attempts + 1).
    #[test]
    fn max_wait_in_half_open_forces_a_transition() {
        let cfg = BreakerConfig {
            max_wait_in_half_open: Some(SimDuration::from_secs(5)),
            ..count_cfg(1, 1, 2)
        };
        let mut cb = opened(cfg.clone(), t(0));
        let now = t(S + 1);
        assert!(cb.try_acquire(now));
        assert!(cb.try_acquire(now)); // both probes hang
        let deadline = now.after(SimDuration::from_secs(5));
        assert_eq!(cb.next_timer(), Some(deadline));
        cb.on_timer(t(deadline.0 - 1));
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        cb.on_timer(deadline);
        assert_eq!(cb.state(), BreakerState::Open);
        assert_eq!(cb.attempts(), 2);
        assert_eq!(
            cb.open_until(),
            Some(deadline.after(SimDuration::from_secs(1)))
        );

        let cfg = BreakerConfig {
            after_max_wait_in_half_open: AfterHalfOpenWait::Closed,
            ..cfg
        };
        let mut cb = opened(cfg, t(0));
        assert!(cb.try_acquire(now));
        cb.on_timer(deadline);
        assert_eq!(cb.state(), BreakerState::Closed);
        assert_eq!(cb.attempts(), 0);
        assert_eq!(cb.next_timer(), None);
        // The hung probe answering late is an ordinary closed-state result.
        cb.on_result(t(deadline.0 + 1), FAST, true);
        assert_eq!(cb.state(), BreakerState::Open);
    }

    // resilience4j issues #903, #935, #2172: a probe that never reports leaves the breaker
    // half-open with no permits, forever, without maxWaitDurationInHalfOpenState.
    #[test]
    fn half_open_stalls_without_max_wait() {
        let mut cb = opened(count_cfg(1, 2, 2), t(0));
        let now = t(S + 1);
        assert!(cb.try_acquire(now));
        assert!(cb.try_acquire(now));
        cb.on_result(now, FAST, false); // one probe answers, the other never does
        assert_eq!(cb.state(), BreakerState::HalfOpen, "1 of min(2, 2)");
        assert_eq!(cb.next_timer(), None);
        let later = t(10 * 86_400 * S);
        cb.on_timer(later);
        assert!(!cb.try_acquire(later));
        assert_eq!(cb.state(), BreakerState::HalfOpen);
        assert_eq!(cb.time_in_states(later)[2], later.since(now));
    }

    // Results go to the current state; a result of a call admitted while CLOSED that
    // lands in HALF_OPEN counts as a probe.
    #[test]
    fn results_count_in_the_state_they_arrive_in() {
        let mut cb = CircuitBreaker::new(count_cfg(2, 2, 1));
        assert!(cb.try_acquire(t(0))); // admitted while CLOSED, answers much later
        feed(&mut cb, t(0), "FF");
        assert_eq!(cb.state(), BreakerState::Open);
        assert!(cb.try_acquire(t(S + 1))); // the only probe, which will hang
        cb.on_result(t(S + 2), FAST, false); // the old call answers
        assert_eq!(cb.state(), BreakerState::Closed);
    }

    // Time in state adds up to the elapsed time (stats for the report).
    #[test]
    fn time_in_state_adds_up_to_elapsed_time() {
        let start = t(3 * S);
        let cfg = BreakerConfig {
            window: Window::Count(1),
            minimum_calls: 1,
            ..count_cfg(1, 1, 1)
        };
        let mut cb = CircuitBreaker::starting_at(cfg, start);
        feed(&mut cb, t(10 * S), "F"); // closed 7 s
        assert!(!cb.try_acquire(t(10 * S + 500 * MS)));
        feed(&mut cb, t(12 * S), "F"); // open 2 s, half-open 0 s, open again
        feed(&mut cb, t(14 * S), "S"); // open 2 s, then half-open → closed at once
        let end = t(20 * S);
        let [closed, open, half_open] = cb.time_in_states(end);
        assert_eq!(closed, SimDuration::from_secs(7 + 6));
        assert_eq!(open, SimDuration::from_secs(4));
        assert_eq!(half_open, SimDuration::ZERO);
        assert_eq!(closed.0 + open.0 + half_open.0, end.since(start).0);
        assert_eq!(cb.not_permitted(), 1);
        assert_eq!(cb.transitions(), 5);
        assert_eq!(cb.openings(), 2);
        let states: Vec<_> = cb.log().iter().map(|tr| tr.to).collect();
        use BreakerState::*;
        assert_eq!(states, [Open, HalfOpen, Open, HalfOpen, Closed]);
    }

    // The log stays bounded over long runs; the count is exact.
    #[test]
    fn transition_log_is_capped_but_the_count_is_exact() {
        let cfg = BreakerConfig {
            wait_in_open: ms(1),
            ..count_cfg(1, 1, 1)
        };
        let mut cb = opened(cfg, t(0));
        let mut now = t(0);
        let cycles = TRANSITION_LOG_CAP as u64; // 2 transitions per cycle
        for _ in 0..cycles {
            now = t(now.0 + 2 * MS);
            feed(&mut cb, now, "F");
        }
        assert_eq!(cb.transitions(), 1 + 2 * cycles);
        assert_eq!(cb.openings(), 1 + cycles);
        assert_eq!(cb.log().len(), TRANSITION_LOG_CAP);
        assert_eq!(
            cb.log()[0],
            Transition {
                at: t(0),
                from: BreakerState::Closed,
                to: BreakerState::Open
            }
        );
        assert_eq!(cb.attempts() as u64, 1 + cycles);
    }

    #[test]
    fn state_serializes_in_snake_case() {
        let json = serde_json::to_string(&BreakerState::HalfOpen).unwrap();
        assert_eq!(json, "\"half_open\"");
        let back: BreakerState = serde_json::from_str("\"open\"").unwrap();
        assert_eq!(back, BreakerState::Open);
    }

    // Invalid configs do not make `new` panic (library code never panics on input).
    #[test]
    fn new_clamps_invalid_sizes_instead_of_panicking() {
        let cfg = BreakerConfig {
            window: Window::Time(0),
            half_open_calls: 0,
            minimum_calls: 0,
            ..count_cfg(1, 1, 1)
        };
        let mut cb = CircuitBreaker::new(cfg.clone());
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open);
        assert!(cb.try_acquire(t(2 * S)));
        let cfg = BreakerConfig {
            window: Window::Count(0),
            ..cfg
        };
        let mut cb = CircuitBreaker::new(cfg);
        feed(&mut cb, t(0), "F");
        assert_eq!(cb.state(), BreakerState::Open);
    }

    // The builder's valid ranges: one test per bad value, each naming its field.
    #[test]
    fn validate_reports_each_bad_value() {
        let fields = |c: BreakerConfig| -> Vec<String> {
            c.problems().into_iter().map(|p| p.path).collect()
        };
        let d = BreakerConfig::default;
        assert!(fields(d()).is_empty());
        let cases: Vec<(BreakerConfig, &str)> = vec![
            (
                BreakerConfig {
                    window: Window::Count(0),
                    ..d()
                },
                "window",
            ),
            (
                BreakerConfig {
                    window: Window::Time(0),
                    ..d()
                },
                "window",
            ),
            (
                BreakerConfig {
                    window: Window::Count(MAX_WINDOW_SIZE + 1),
                    ..d()
                },
                "window",
            ),
            (
                BreakerConfig {
                    failure_rate_threshold: 0.0,
                    ..d()
                },
                "failure_rate_threshold",
            ),
            (
                BreakerConfig {
                    failure_rate_threshold: 100.5,
                    ..d()
                },
                "failure_rate_threshold",
            ),
            (
                BreakerConfig {
                    failure_rate_threshold: f64::NAN,
                    ..d()
                },
                "failure_rate_threshold",
            ),
            (
                BreakerConfig {
                    slow_call_rate_threshold: -1.0,
                    ..d()
                },
                "slow_call_rate_threshold",
            ),
            (
                BreakerConfig {
                    slow_call_duration: SimDuration::ZERO,
                    ..d()
                },
                "slow_call_duration",
            ),
            (
                BreakerConfig {
                    minimum_calls: 0,
                    ..d()
                },
                "minimum_calls",
            ),
            (
                BreakerConfig {
                    wait_in_open: SimDuration(999_999),
                    ..d()
                },
                "wait_in_open",
            ),
            (
                BreakerConfig {
                    wait_multiplier: 0.5,
                    ..d()
                },
                "wait_multiplier",
            ),
            (
                BreakerConfig {
                    wait_multiplier: f64::INFINITY,
                    ..d()
                },
                "wait_multiplier",
            ),
            (
                BreakerConfig {
                    max_wait_in_open: Some(SimDuration(10)),
                    ..d()
                },
                "max_wait_in_open",
            ),
            (
                BreakerConfig {
                    max_wait_in_open: Some(SimDuration::from_secs(59)),
                    ..d()
                },
                "max_wait_in_open",
            ),
            (
                BreakerConfig {
                    half_open_calls: 0,
                    ..d()
                },
                "half_open_calls",
            ),
            (
                BreakerConfig {
                    half_open_calls: MAX_WINDOW_SIZE + 1,
                    ..d()
                },
                "half_open_calls",
            ),
            (
                BreakerConfig {
                    max_wait_in_half_open: Some(SimDuration(500_000)),
                    ..d()
                },
                "max_wait_in_half_open",
            ),
        ];
        for (cfg, field) in cases {
            let problems = cfg.problems();
            assert_eq!(problems.len(), 1, "{field}: {problems:?}");
            assert_eq!(problems[0].path, field);
            assert!(!problems[0].message.is_empty());
            assert!(problems[0].hint.as_ref().is_some_and(|h| !h.is_empty()));
        }
        // Messages quote the value and say what to do.
        let p = BreakerConfig {
            failure_rate_threshold: 150.0,
            ..d()
        }
        .problems();
        assert!(
            p[0].message.contains("150") && p[0].message.contains("(0, 100]"),
            "{}",
            p[0]
        );
        let p = BreakerConfig {
            max_wait_in_open: Some(SimDuration::from_secs(5)),
            ..d()
        }
        .validate()
        .unwrap_err();
        assert_eq!(p.path, "max_wait_in_open");
        assert!(p.message.contains("5s") && p.message.contains("1m"), "{p}");
        // Every problem is reported, not only the first.
        let all = BreakerConfig {
            window: Window::Count(0),
            minimum_calls: 0,
            half_open_calls: 0,
            ..d()
        };
        assert_eq!(fields(all), ["window", "minimum_calls", "half_open_calls"]);
        // Boundaries that are valid.
        let ok = BreakerConfig {
            failure_rate_threshold: 100.0,
            slow_call_rate_threshold: 0.001,
            slow_call_duration: SimDuration(1),
            wait_in_open: ms(1),
            max_wait_in_open: Some(ms(1)),
            max_wait_in_half_open: Some(ms(1)),
            window: Window::Time(MAX_WINDOW_SIZE),
            ..d()
        };
        assert!(fields(ok).is_empty());
    }
}

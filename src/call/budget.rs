//! Retry budgets: a gate shared by all calls from one client to one callee, in front of each
//! call's own attempt count (docs/semantics.md, *Retry budgets*).
//!
//! The engine keeps one [`BudgetState`] per caller replica and call step (an Envoy sidecar or a
//! gRPC channel keeps one per client and upstream cluster), and asks it before every retry,
//! after the call's own retry count has allowed the retry (Envoy decrements
//! `retries_remaining` first, so a denied retry still used up its slot). Two kinds:
//!
//! * **Envoy** `retry_budget` (`source/common/upstream/resource_manager_impl.h`): a retry may
//!   start while `active_retries < max(⌊percent/100 × active_requests⌋, min_concurrency)`. The
//!   limit is recomputed on every check from the current counts; the product is a `double`
//!   truncated to an integer, as Envoy's `std::max<uint64_t>(…)` does, so 20 % of 25 is 5 and
//!   20 % of 29 is still 5. A retry holds a *retry resource* from the decision until
//!   [`BudgetState::on_retry_end`], which Envoy calls at the call's next retry decision or
//!   when the request ends. Envoy's `active_requests` counts every upstream request in flight
//!   plus the pending ones, so a call sleeping in backoff does not count: the budget shrinks
//!   as requests turn into retries (envoy-mobile #811). Which requests to count is the
//!   engine's choice, through [`BudgetState::on_request_start`] and
//!   [`BudgetState::on_request_end`].
//! * **gRPC** retry throttling (`src/core/client_channel/retry_throttle.cc`): a token count
//!   that starts full at `max_tokens`; each failed attempt takes 1 token (floor 0), each
//!   success adds `token_ratio` (cap `max_tokens`), and a retry may start while
//!   `tokens > max_tokens/2`. Like gRPC, tokens are kept as integer milli-tokens (the ratio
//!   has three decimal places) and the threshold is `max_milli_tokens / 2` in integer
//!   division, so draining and recovering are exact. gRPC decides right after recording the
//!   failure, so call [`BudgetState::on_failure`] before [`BudgetState::try_start_retry`].
//!
//! Both kinds track active requests and retries and count denials, so reports can show them
//! whichever kind is configured; only the Envoy kind gates on them, and only the token bucket
//! uses successes and failures.

use crate::error::Problem;

/// A retry budget's configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryBudget {
    /// Envoy's `circuit_breakers.thresholds.retry_budget`.
    Envoy {
        /// `budget_percent`: the share of active requests that may be retries \[%, 0-100\]
        /// (Envoy default 20).
        percent: f64,
        /// `min_retry_concurrency`: retries allowed whatever the load (Envoy default 3).
        /// With `percent` 0 this is Envoy's plain `max_retries` limit.
        min_concurrency: u32,
    },
    /// gRPC's `retryThrottling`.
    TokenBucket {
        /// `maxTokens`: the bucket's size and initial content, in (0, 1000].
        max_tokens: f64,
        /// `tokenRatio`: the tokens a success adds back, > 0 (three decimal places are kept).
        token_ratio: f64,
    },
}

impl RetryBudget {
    /// The first problem with these values, at the field it is about; `Ok` when valid.
    ///
    /// Fields: `percent`, `min_concurrency`, `max_tokens`, `token_ratio`. Envoy: `percent` must
    /// be a number in \[0, 100\] (as Envoy's `Percent` type), and not 0 together with a zero
    /// `min_concurrency` (no retry could ever start). gRPC: `max_tokens` in (0, 1000] and
    /// `token_ratio` at least 0.001, the smallest step of gRPC's milli-tokens.
    pub fn validate(&self) -> Result<(), Problem> {
        match *self {
            RetryBudget::Envoy {
                percent,
                min_concurrency,
            } => {
                if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
                    return Err(Problem::new(
                        "percent",
                        format!("`{percent}` is not a percentage"),
                    )
                    .with_hint("use a number from 0 to 100, e.g. 20"));
                }
                if percent == 0.0 && min_concurrency == 0 {
                    return Err(Problem::new(
                        "min_concurrency",
                        "is 0 and percent is 0, so no retry could ever start",
                    )
                    .with_hint(
                        "raise either (Envoy defaults: percent 20, min_concurrency 3) or remove \
                         the retries",
                    ));
                }
            }
            RetryBudget::TokenBucket {
                max_tokens,
                token_ratio,
            } => {
                if !max_tokens.is_finite() || max_tokens <= 0.0 || max_tokens > 1000.0 {
                    return Err(Problem::new(
                        "max_tokens",
                        format!("`{max_tokens}` is out of range"),
                    )
                    .with_hint("gRPC accepts more than 0 and at most 1000"));
                }
                if !token_ratio.is_finite() || token_ratio < 0.001 {
                    return Err(Problem::new(
                        "token_ratio",
                        format!("`{token_ratio}` is out of range"),
                    )
                    .with_hint(
                        "it must be at least 0.001 (gRPC keeps three decimal places), e.g. 0.1",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Envoy { percent: f64, min_concurrency: u64 },
    TokenBucket { max_milli: u64, ratio_milli: u64 },
}

/// The live state of one retry budget (one per caller replica and callee in the engine).
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetState {
    kind: Kind,
    active_requests: u64,
    active_retries: u64,
    milli_tokens: u64,
    denied: u64,
}

/// `x` thousandths, rounded, saturating at 0 and `u64::MAX` (NaN gives 0).
fn milli(x: f64) -> u64 {
    (x * 1000.0).round() as u64
}

impl BudgetState {
    /// A fresh budget: no active requests or retries, a full token bucket.
    pub fn new(b: &RetryBudget) -> Self {
        let (kind, milli_tokens) = match *b {
            RetryBudget::Envoy {
                percent,
                min_concurrency,
            } => (
                Kind::Envoy {
                    percent,
                    min_concurrency: u64::from(min_concurrency),
                },
                0,
            ),
            RetryBudget::TokenBucket {
                max_tokens,
                token_ratio,
            } => {
                let max_milli = milli(max_tokens);
                (
                    Kind::TokenBucket {
                        max_milli,
                        ratio_milli: milli(token_ratio),
                    },
                    max_milli,
                )
            }
        };
        BudgetState {
            kind,
            active_requests: 0,
            active_retries: 0,
            milli_tokens,
            denied: 0,
        }
    }

    /// A request to the callee started (Envoy: it became active or pending).
    pub fn on_request_start(&mut self) {
        self.active_requests += 1;
    }

    /// A request counted by [`on_request_start`](Self::on_request_start) ended.
    pub fn on_request_end(&mut self) {
        debug_assert!(self.active_requests > 0, "request ended twice");
        self.active_requests = self.active_requests.saturating_sub(1);
    }

    /// Asks to start a retry. On `true` the retry holds a retry resource until
    /// [`on_retry_end`](Self::on_retry_end); on `false` it must not be sent, and the denial is
    /// counted.
    ///
    /// Envoy: allowed while `active_retries <` [`retry_limit`](Self::retry_limit), computed
    /// now. Token bucket: allowed while `tokens > max_tokens/2`.
    pub fn try_start_retry(&mut self) -> bool {
        let allowed = match self.kind {
            Kind::Envoy { .. } => self.active_retries < self.retry_limit().unwrap_or(0),
            Kind::TokenBucket { max_milli, .. } => self.milli_tokens > max_milli / 2,
        };
        if allowed {
            self.active_retries += 1;
        } else {
            self.denied += 1;
        }
        allowed
    }

    /// Releases the retry resource taken by a successful
    /// [`try_start_retry`](Self::try_start_retry) (Envoy: at the call's next retry decision,
    /// before asking again, or when the request ends).
    pub fn on_retry_end(&mut self) {
        debug_assert!(self.active_retries > 0, "retry ended twice");
        self.active_retries = self.active_retries.saturating_sub(1);
    }

    /// An attempt succeeded: the token bucket gains `token_ratio`, up to `max_tokens`.
    pub fn on_success(&mut self) {
        if let Kind::TokenBucket {
            max_milli,
            ratio_milli,
        } = self.kind
        {
            self.milli_tokens = self.milli_tokens.saturating_add(ratio_milli).min(max_milli);
        }
    }

    /// An attempt failed with a retryable status (or was pushed back): the token bucket loses
    /// one token, down to 0.
    pub fn on_failure(&mut self) {
        if let Kind::TokenBucket { .. } = self.kind {
            self.milli_tokens = self.milli_tokens.saturating_sub(1000);
        }
    }

    /// Retries denied so far.
    pub fn denied(&self) -> u64 {
        self.denied
    }

    /// Requests active now, as counted by the start and end calls.
    pub fn active_requests(&self) -> u64 {
        self.active_requests
    }

    /// Retries holding a retry resource now.
    pub fn active_retries(&self) -> u64 {
        self.active_retries
    }

    /// Envoy: the number of concurrent retries allowed now,
    /// `max(⌊percent/100 × active_requests⌋, min_concurrency)`. `None` for a token bucket.
    pub fn retry_limit(&self) -> Option<u64> {
        match self.kind {
            Kind::Envoy {
                percent,
                min_concurrency,
            } => {
                // Envoy: std::max<uint64_t>(budget_percent / 100.0 * current_active, min).
                let share = (percent / 100.0 * self.active_requests as f64) as u64;
                Some(share.max(min_concurrency))
            }
            Kind::TokenBucket { .. } => None,
        }
    }

    /// Token bucket: the tokens now (a multiple of 0.001). `None` for an Envoy budget.
    pub fn tokens(&self) -> Option<f64> {
        match self.kind {
            Kind::TokenBucket { .. } => Some(self.milli_tokens as f64 / 1000.0),
            Kind::Envoy { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envoy(percent: f64, min_concurrency: u32) -> BudgetState {
        BudgetState::new(&RetryBudget::Envoy {
            percent,
            min_concurrency,
        })
    }

    fn bucket(max_tokens: f64, token_ratio: f64) -> BudgetState {
        BudgetState::new(&RetryBudget::TokenBucket {
            max_tokens,
            token_ratio,
        })
    }

    /// Starts retries until one is denied; returns how many started.
    fn fill(b: &mut BudgetState) -> u64 {
        let mut n = 0;
        while b.try_start_retry() {
            n += 1;
            assert!(n < 10_000);
        }
        n
    }

    #[test]
    fn envoy_examples_from_pr_9069() {
        // 20 % with 25 active allows 5.
        let mut b = envoy(20.0, 3);
        for _ in 0..25 {
            b.on_request_start();
        }
        assert_eq!(b.retry_limit(), Some(5));
        assert_eq!(fill(&mut b), 5);
        assert_eq!(b.active_retries(), 5);
        assert_eq!(b.denied(), 1);
        // 2 active still allows 3.
        let mut b = envoy(20.0, 3);
        b.on_request_start();
        b.on_request_start();
        assert_eq!(b.retry_limit(), Some(3));
        assert_eq!(fill(&mut b), 3);
        // No active request at all: still min_concurrency.
        assert_eq!(envoy(20.0, 3).retry_limit(), Some(3));
    }

    #[test]
    fn envoy_share_is_truncated() {
        let mut b = envoy(20.0, 0);
        for (active, limit) in [(4, 0), (5, 1), (24, 4), (25, 5), (29, 5), (30, 6)] {
            while b.active_requests() < active {
                b.on_request_start();
            }
            assert_eq!(b.retry_limit(), Some(limit), "{active} active");
        }
        // 100 % allows as many retries as requests.
        let mut b = envoy(100.0, 0);
        for _ in 0..7 {
            b.on_request_start();
        }
        assert_eq!(fill(&mut b), 7);
        // Percent 0 is Envoy's fixed max_retries.
        let mut b = envoy(0.0, 3);
        for _ in 0..1000 {
            b.on_request_start();
        }
        assert_eq!(fill(&mut b), 3);
    }

    #[test]
    fn envoy_limit_is_recomputed_on_every_check() {
        let mut b = envoy(20.0, 3);
        for _ in 0..50 {
            b.on_request_start();
        }
        assert_eq!(fill(&mut b), 10);
        // Load falls to 20 requests: limit 4, and 10 retries are still out.
        for _ in 0..30 {
            b.on_request_end();
        }
        assert_eq!(b.retry_limit(), Some(4));
        assert!(!b.try_start_retry());
        // Six retries end: 4 out, still at the limit; one more ends: room for one.
        for _ in 0..6 {
            b.on_retry_end();
        }
        assert!(!b.try_start_retry());
        b.on_retry_end();
        assert!(b.try_start_retry());
        assert!(!b.try_start_retry());
        assert_eq!(b.denied(), 4);
    }

    #[test]
    fn envoy_scripted_accounting() {
        // Three calls fail and retry; their retry resources are released at the next decision
        // or when the call ends.
        let mut b = envoy(20.0, 1);
        // Calls A, B, C in flight (limit max(⌊0.6⌋, 1) = 1).
        for _ in 0..3 {
            b.on_request_start();
        }
        assert!(b.try_start_retry()); // A retries
        assert!(!b.try_start_retry()); // B is denied and ends with its error
        b.on_request_end();
        assert_eq!((b.active_requests(), b.active_retries()), (2, 1));
        // A's retry fails too: its resource is released before its next decision.
        b.on_retry_end();
        assert!(b.try_start_retry()); // A retries again
        assert!(!b.try_start_retry()); // C is denied
        b.on_retry_end(); // A ends
        b.on_request_end();
        b.on_request_end(); // C ends
        assert_eq!((b.active_requests(), b.active_retries()), (0, 0));
        assert_eq!(b.denied(), 2);
        // Successes and failures do not matter to Envoy.
        b.on_failure();
        b.on_success();
        assert_eq!(b.tokens(), None);
        assert!(b.try_start_retry());
    }

    #[test]
    fn token_bucket_drains_and_recovers_exactly() {
        // gRPC example from A6: maxTokens 10, tokenRatio 0.1.
        let mut b = bucket(10.0, 0.1);
        assert_eq!(b.tokens(), Some(10.0));
        assert_eq!(b.retry_limit(), None);
        // 4 failures: 6 > 5, allowed; the 5th: 5 > 5 is false.
        for _ in 0..4 {
            b.on_failure();
        }
        assert!(b.try_start_retry());
        b.on_retry_end();
        b.on_failure();
        assert_eq!(b.tokens(), Some(5.0));
        assert!(!b.try_start_retry());
        assert_eq!(b.denied(), 1);
        // One success is enough: 5.1 > 5.
        b.on_success();
        assert_eq!(b.tokens(), Some(5.1));
        assert!(b.try_start_retry());
        b.on_retry_end();
        // Floor at 0, then exactly 50 successes to get back to 5, 51 to retry again.
        for _ in 0..20 {
            b.on_failure();
        }
        assert_eq!(b.tokens(), Some(0.0));
        for _ in 0..50 {
            b.on_success();
        }
        assert_eq!(b.tokens(), Some(5.0));
        assert!(!b.try_start_retry());
        b.on_success();
        assert!(b.try_start_retry());
        // Cap at max_tokens.
        for _ in 0..1000 {
            b.on_success();
        }
        assert_eq!(b.tokens(), Some(10.0));
        assert_eq!(b.denied(), 2);
    }

    #[test]
    fn token_bucket_threshold_uses_integer_halving() {
        // max 3: threshold 1.5 tokens; 2 tokens allow, 1 does not.
        let mut b = bucket(3.0, 1.0);
        b.on_failure();
        assert!(b.try_start_retry());
        b.on_failure();
        assert_eq!(b.tokens(), Some(1.0));
        assert!(!b.try_start_retry());
        // The ratio keeps three decimals: 0.0004 rounds to 0, 0.0006 to 0.001.
        assert_eq!(bucket(1.0, 0.0006).kind, bucket(1.0, 0.001).kind);
    }

    #[test]
    fn token_bucket_ignores_concurrency() {
        let mut b = bucket(2.0, 0.5);
        for _ in 0..100 {
            assert!(b.try_start_retry());
        }
        assert_eq!(b.active_retries(), 100);
        assert_eq!(b.denied(), 0);
    }

    #[test]
    fn validate_reports_out_of_range_values() {
        let fields = |b: RetryBudget| -> Vec<String> {
            b.validate().err().map(|p| p.path).into_iter().collect()
        };
        let e = |percent, min_concurrency| RetryBudget::Envoy {
            percent,
            min_concurrency,
        };
        let t = |max_tokens, token_ratio| RetryBudget::TokenBucket {
            max_tokens,
            token_ratio,
        };
        assert!(fields(e(20.0, 3)).is_empty());
        assert!(fields(e(100.0, 0)).is_empty());
        assert!(fields(e(0.0, 3)).is_empty());
        assert_eq!(fields(e(0.0, 0)), vec!["min_concurrency"]);
        assert_eq!(fields(e(120.0, 3)), vec!["percent"]);
        assert_eq!(fields(e(-1.0, 3)), vec!["percent"]);
        assert_eq!(fields(e(f64::NAN, 3)), vec!["percent"]);
        assert!(fields(t(10.0, 0.1)).is_empty());
        assert!(fields(t(1000.0, 0.001)).is_empty());
        assert_eq!(fields(t(0.0, 0.1)), vec!["max_tokens"]);
        assert_eq!(fields(t(1001.0, 0.1)), vec!["max_tokens"]);
        assert_eq!(fields(t(10.0, 0.0)), vec!["token_ratio"]);
        assert_eq!(fields(t(10.0, 0.0001)), vec!["token_ratio"]);
        assert_eq!(fields(t(f64::INFINITY, f64::NAN)), vec!["max_tokens"]);
        let p = e(120.0, 3).validate().unwrap_err();
        assert!(p.message.contains("120") && p.hint.is_some(), "{p}");
        assert_eq!(
            p.to_string(),
            "percent: `120` is not a percentage; use a number from 0 to 100, e.g. 20"
        );
    }
}

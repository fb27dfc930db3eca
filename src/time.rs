//! Virtual time: integer nanoseconds, and the unit-bearing duration strings of topology files.
//!
//! Simulation time is a `u64` count of nanoseconds since the start of a run. Integers make
//! event ordering exact and portable (no float epsilon), and 2^64 ns is about 584 years, so a
//! run never overflows in practice; arithmetic that could still overflow saturates.

use std::fmt;

/// Nanoseconds per microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;
/// Nanoseconds per day.
pub const NS_PER_DAY: u64 = 86_400 * NS_PER_S;
/// The longest duration a topology may give: 500 days × 365, about 500 years. The clock is
/// a `u64` of nanoseconds, which ends after about 584 years; the margin leaves room for a
/// time plus a duration without saturating in any realistic model.
pub const MAX_DURATION: SimDuration = SimDuration(500 * 365 * NS_PER_DAY);
/// The units a duration string may have, as listed in messages.
pub const UNITS: &str = "ns, us, ms, s, m, h, d";

/// A point on the virtual clock [ns since the start of the run].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time \[ns\].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds since the start of the run, as a float for reporting.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// This time plus `d`, saturating at the end of representable time.
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// The span from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * NS_PER_MS)
    }

    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NS_PER_S)
    }

    /// The duration in nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// The duration in milliseconds, as a float for reporting.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }

    /// The duration in seconds, as a float for reporting.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

impl fmt::Display for SimDuration {
    /// Formats with the largest unit that keeps the number readable (`150ms`, `2.5s`, `10m`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0 as f64;
        if self.0 == 0 {
            return write!(f, "0s");
        }
        let (value, unit) = if self.0 >= 3600 * NS_PER_S && self.0.is_multiple_of(3600 * NS_PER_S) {
            (ns / (3600.0 * NS_PER_S as f64), "h")
        } else if self.0 >= 60 * NS_PER_S && self.0.is_multiple_of(60 * NS_PER_S) {
            (ns / (60.0 * NS_PER_S as f64), "m")
        } else if self.0 >= NS_PER_S {
            (ns / NS_PER_S as f64, "s")
        } else if self.0 >= NS_PER_MS {
            (ns / NS_PER_MS as f64, "ms")
        } else if self.0 >= NS_PER_US {
            (ns / NS_PER_US as f64, "us")
        } else {
            (ns, "ns")
        };
        write!(f, "{}{}", trim_float(value), unit)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

impl std::str::FromStr for SimDuration {
    type Err = DurationError;

    /// Reads a duration as topology files write it: `"150ms".parse::<SimDuration>()` (see
    /// [`parse_duration`]).
    fn from_str(s: &str) -> Result<SimDuration, DurationError> {
        parse_duration(s)
    }
}

impl std::str::FromStr for SimTime {
    type Err = DurationError;

    /// Reads a time since the start of the run as a duration (`"90s"`), or as it is shown
    /// (`"t=90s"`).
    fn from_str(s: &str) -> Result<SimTime, DurationError> {
        let t = s.trim();
        let t = t.strip_prefix("t=").unwrap_or(t);
        parse_duration(t).map(|d| SimTime(d.as_nanos()))
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Why a duration string was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The string has a number but no unit, e.g. `"150"`.
    #[error("`{0}` has no unit; write it with one, e.g. \"{0}ms\" or \"{0}s\" (units: {UNITS})")]
    MissingUnit(String),
    /// The unit is not one of ns, us, ms, s, m, h, d.
    #[error("`{text}` has an unknown unit `{unit}`; use one of {UNITS}")]
    UnknownUnit {
        /// The whole string.
        text: String,
        /// The part after the number.
        unit: String,
    },
    /// The number part is missing, negative, not finite or not a number.
    #[error("`{0}` is not a duration; write a non-negative number and a unit, e.g. \"250ms\"")]
    BadNumber(String),
    /// The duration is longer than [`MAX_DURATION`] (the clock holds about 584 years).
    #[error("`{0}` is too long: durations are limited to 500 years (\"182500d\"), since the virtual clock counts nanoseconds in 64 bits and ends after about 584 years")]
    TooLong(String),
}

/// Parses a duration string such as `"150ms"`, `"2.5s"`, `"10m"`, `"1h"`, `"2d"`, `"750us"`,
/// `"20ns"` (`µs` and `min` are accepted too).
///
/// The number may have a fraction; the result is rounded to the nearest nanosecond. Spaces
/// between number and unit are allowed. A bare number is rejected: units are mandatory, so a
/// reader of the file never has to guess.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(t.len());
    // `e` would swallow nothing useful as a unit, but keeps "1e3ms" working.
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    if num.is_empty() {
        return Err(DurationError::BadNumber(text.to_string()));
    }
    let value: f64 = num
        .parse()
        .map_err(|_| DurationError::BadNumber(text.to_string()))?;
    if !value.is_finite() || value < 0.0 {
        return Err(DurationError::BadNumber(text.to_string()));
    }
    let scale = match unit {
        "" => return Err(DurationError::MissingUnit(t.to_string())),
        "ns" => 1.0,
        "us" | "µs" => NS_PER_US as f64,
        "ms" => NS_PER_MS as f64,
        "s" => NS_PER_S as f64,
        "m" | "min" => 60.0 * NS_PER_S as f64,
        "h" => 3600.0 * NS_PER_S as f64,
        "d" => NS_PER_DAY as f64,
        _ => {
            return Err(DurationError::UnknownUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    let ns = (value * scale).round();
    // Compared as floats before the conversion, which would saturate silently.
    if ns > MAX_DURATION.0 as f64 {
        return Err(DurationError::TooLong(text.to_string()));
    }
    Ok(SimDuration(ns as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("20ns"), Ok(SimDuration(20)));
        assert_eq!(parse_duration("750us"), Ok(SimDuration(750_000)));
        assert_eq!(parse_duration("150ms"), Ok(SimDuration::from_millis(150)));
        assert_eq!(parse_duration("2.5s"), Ok(SimDuration(2_500_000_000)));
        assert_eq!(parse_duration("10m"), Ok(SimDuration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration::from_secs(3600)));
        assert_eq!(parse_duration("2d"), Ok(SimDuration::from_secs(2 * 86_400)));
        assert_eq!(parse_duration("1.5d"), Ok(SimDuration::from_secs(129_600)));
        assert_eq!(parse_duration(" 3 ms "), Ok(SimDuration::from_millis(3)));
        assert_eq!(parse_duration("3µs"), Ok(SimDuration(3_000)));
        assert_eq!(parse_duration("2min"), Ok(SimDuration::from_secs(120)));
    }

    #[test]
    fn rejects_missing_unit_bad_unit_and_negative() {
        assert_eq!(
            parse_duration("150"),
            Err(DurationError::MissingUnit("150".into()))
        );
        assert!(matches!(
            parse_duration("150 parsecs"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            parse_duration("-5ms"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("ms"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("1e400s"),
            Err(DurationError::BadNumber(_))
        ));
        assert!(matches!(
            parse_duration("10000000h"),
            Err(DurationError::TooLong(_))
        ));
    }

    #[test]
    fn the_limit_is_exact_and_nothing_wraps() {
        assert_eq!(parse_duration("182500d"), Ok(MAX_DURATION));
        // Larger values are refused, up to and past the end of the f64 range, instead of
        // saturating or wrapping in the conversion to u64.
        assert!(matches!(
            parse_duration("182501d"),
            Err(DurationError::TooLong(_))
        ));
        for text in ["1.6e19ns", "1e300d", "18446744073709551616ns", "213504d"] {
            assert_eq!(
                parse_duration(text),
                Err(DurationError::TooLong(text.into())),
            );
        }
    }

    #[test]
    fn durations_and_times_parse_from_strings() {
        assert_eq!(
            "150ms".parse::<SimDuration>(),
            Ok(SimDuration::from_millis(150))
        );
        assert_eq!(
            "150".parse::<SimDuration>(),
            Err(DurationError::MissingUnit("150".into()))
        );
        assert_eq!("90s".parse::<SimTime>(), Ok(SimTime(90 * NS_PER_S)));
        let t = SimTime(2_500_000_000);
        assert_eq!(t.to_string().parse::<SimTime>(), Ok(t));
        assert!("t=".parse::<SimTime>().is_err());
        for d in [
            SimDuration(1),
            SimDuration::from_millis(150),
            SimDuration::from_secs(600),
        ] {
            assert_eq!(d.to_string().parse::<SimDuration>(), Ok(d));
        }
    }

    #[test]
    fn displays_readably() {
        assert_eq!(SimDuration::from_millis(150).to_string(), "150ms");
        assert_eq!(SimDuration(2_500_000_000).to_string(), "2.5s");
        assert_eq!(SimDuration::from_secs(600).to_string(), "10m");
        assert_eq!(SimDuration(1500).to_string(), "1.5us");
        assert_eq!(SimDuration::ZERO.to_string(), "0s");
    }
}

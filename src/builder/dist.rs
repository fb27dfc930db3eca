//! Distributions of durations, as the file writes them (`Exp(mean: "2ms")`).
//!
//! Each constructor returns the [`DistSpec`] the file would hold; the `_ms` ones take
//! milliseconds as numbers, the others any [`IntoDuration`].

use super::{ms, IntoDuration};
use crate::spec::DistSpec;

/// Exponential durations: `Exp::mean_ms(2.0)` is the file's `Exp(mean: "2ms")`.
#[derive(Debug)]
pub enum Exp {}

impl Exp {
    /// Exponential with mean `mean`.
    pub fn mean(mean: impl IntoDuration) -> DistSpec {
        DistSpec::Exp {
            mean: mean.into_duration(),
        }
    }

    /// Exponential with a mean of `mean` milliseconds.
    pub fn mean_ms(mean: impl Into<f64>) -> DistSpec {
        Exp::mean(ms(mean))
    }
}

/// Always the same duration: `Const::ms(5)` is `Const("5ms")`.
#[derive(Debug)]
pub enum Const {}

impl Const {
    /// Always `value`.
    pub fn of(value: impl IntoDuration) -> DistSpec {
        DistSpec::Const(value.into_duration())
    }

    /// Always `value` milliseconds.
    pub fn ms(value: impl Into<f64>) -> DistSpec {
        Const::of(ms(value))
    }
}

/// Uniform between two durations: `Uniform::ms(1, 3)` is `Uniform(min: "1ms", max: "3ms")`.
#[derive(Debug)]
pub enum Uniform {}

impl Uniform {
    /// Uniform between `min` and `max`.
    pub fn between(min: impl IntoDuration, max: impl IntoDuration) -> DistSpec {
        DistSpec::Uniform {
            min: min.into_duration(),
            max: max.into_duration(),
        }
    }

    /// Uniform between `min` and `max` milliseconds.
    pub fn ms(min: impl Into<f64>, max: impl Into<f64>) -> DistSpec {
        Uniform::between(ms(min), ms(max))
    }
}

/// Log-normal durations (a long right tail), by median and 99th percentile or by mean and
/// coefficient of variation.
#[derive(Debug)]
pub enum LogNormal {}

impl LogNormal {
    /// Log-normal with this median and 99th percentile (`p99` must exceed `median`).
    pub fn median_p99(median: impl IntoDuration, p99: impl IntoDuration) -> DistSpec {
        DistSpec::LogNormal {
            median: Some(median.into_duration()),
            p99: Some(p99.into_duration()),
            mean: None,
            cv: None,
        }
    }

    /// Log-normal with this median and 99th percentile in milliseconds.
    pub fn median_p99_ms(median: impl Into<f64>, p99: impl Into<f64>) -> DistSpec {
        LogNormal::median_p99(ms(median), ms(p99))
    }

    /// Log-normal with this mean and coefficient of variation (standard deviation / mean).
    pub fn mean_cv(mean: impl IntoDuration, cv: f64) -> DistSpec {
        DistSpec::LogNormal {
            median: None,
            p99: None,
            mean: Some(mean.into_duration()),
            cv: Some(cv),
        }
    }

    /// Log-normal with a mean of `mean` milliseconds and coefficient of variation `cv`.
    pub fn mean_cv_ms(mean: impl Into<f64>, cv: f64) -> DistSpec {
        LogNormal::mean_cv(ms(mean), cv)
    }
}

/// Gamma durations by mean and coefficient of variation (cv = 1 is exponential, smaller is
/// more regular).
#[derive(Debug)]
pub enum Gamma {}

impl Gamma {
    /// Gamma with this mean and coefficient of variation.
    pub fn mean_cv(mean: impl IntoDuration, cv: f64) -> DistSpec {
        DistSpec::Gamma {
            mean: mean.into_duration(),
            cv,
        }
    }

    /// Gamma with a mean of `mean` milliseconds and coefficient of variation `cv`.
    pub fn mean_cv_ms(mean: impl Into<f64>, cv: f64) -> DistSpec {
        Gamma::mean_cv(ms(mean), cv)
    }
}

/// One of the listed durations, each equally likely (e.g. measured latencies).
#[derive(Debug)]
pub enum Empirical {}

impl Empirical {
    /// One of `samples`, each equally likely.
    pub fn of<D: IntoDuration>(samples: impl IntoIterator<Item = D>) -> DistSpec {
        DistSpec::Empirical(samples.into_iter().map(D::into_duration).collect())
    }

    /// One of `samples` milliseconds, each equally likely.
    pub fn ms<V: Into<f64>>(samples: impl IntoIterator<Item = V>) -> DistSpec {
        DistSpec::Empirical(samples.into_iter().map(ms).collect())
    }
}

//! Field values every section uses: durations, probabilities, fractions and distributions.
//!
//! Each check reports a problem at the field's path and returns what the rest of the
//! compilation should go on with: `None` for a value that could not be read (the caller
//! decides whether a default stands in), or the value (or a default) for a readable one that
//! breaks its range.

use super::Compiler;
use crate::dist::Dist;
use crate::model::distributions::compile_dist;
use crate::spec::DistSpec;
use crate::time::{parse_duration, SimDuration};

impl Compiler<'_> {
    /// A duration as written (`"150ms"`), or a problem.
    pub(super) fn duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        match parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.at(path).push(e.to_string());
                None
            }
        }
    }

    /// An optional duration: `None` when it is left out or does not parse.
    pub(super) fn optional_duration(
        &mut self,
        path: &str,
        text: &Option<String>,
    ) -> Option<SimDuration> {
        text.as_ref().and_then(|t| self.duration(path, t))
    }

    /// A duration longer than 0.
    pub(super) fn positive_duration(&mut self, path: &str, text: &str) -> Option<SimDuration> {
        match self.duration(path, text)? {
            SimDuration(0) => {
                self.at(path)
                    .push(format!("must be longer than 0, not {text}"));
                None
            }
            d => Some(d),
        }
    }

    /// An optional duration longer than 0: `None` when it is left out or is not valid.
    pub(super) fn optional_positive_duration(
        &mut self,
        path: &str,
        text: &Option<String>,
    ) -> Option<SimDuration> {
        text.as_ref().and_then(|t| self.positive_duration(path, t))
    }

    /// A probability in \[0, 1\], 1 when left out.
    pub(super) fn probability(&mut self, path: &str, p: Option<f64>) -> f64 {
        let p = p.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&p) {
            self.at(path)
                .push(format!("probability must be between 0 and 1, not {p}"));
        }
        p
    }

    /// A fraction in (0, 1\], `default` when left out or out of range.
    pub(super) fn fraction(&mut self, path: &str, v: Option<f64>, default: f64) -> f64 {
        let v = v.unwrap_or(default);
        if !(v > 0.0 && v <= 1.0) {
            self.at(path)
                .push(format!("must be a fraction in (0, 1], not {v}"));
            return default;
        }
        v
    }

    /// A distribution, with a problem at the offending parameter (`{path}.mean`, or
    /// `{path}[i]` for a sample of an empirical one).
    pub(super) fn dist(&mut self, path: &str, spec: &DistSpec) -> Option<Dist> {
        match compile_dist(spec) {
            Ok(d) => Some(d),
            Err(p) => {
                self.at(path).add(p);
                None
            }
        }
    }

    /// An optional distribution: `None` when it is left out or is not valid.
    pub(super) fn optional_dist(&mut self, path: &str, spec: &Option<DistSpec>) -> Option<Dist> {
        spec.as_ref().and_then(|d| self.dist(path, d))
    }
}

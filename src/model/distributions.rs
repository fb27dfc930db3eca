//! Distributions as written (`Exp(mean: "2ms")`, `LogNormal(median: …, p99: …)`) compiled
//! into samplers, with every parameter checked.

use crate::dist::Dist;
use crate::error::Problem;
use crate::spec::DistSpec;
use crate::time::parse_duration;

/// Checks a distribution as written and compiles it; a problem is at the offending
/// parameter's path relative to the distribution (`mean`, `[i]` for a sample of an empirical
/// one, empty for the distribution itself).
pub fn compile_dist(spec: &DistSpec) -> Result<Dist, Problem> {
    let dur = |field: &str, text: &str| {
        parse_duration(text).map_err(|e| Problem::new(field, e.to_string()))
    };
    /// The hint for a zero where a positive time is needed.
    const NO_TIME: &str = "for no time at all write Const(\"0ms\")";
    match spec {
        DistSpec::Const(v) => Ok(match dur("", v)?.as_nanos() {
            0 => Dist::Zero,
            ns => Dist::Const(ns),
        }),
        DistSpec::Exp { mean } => {
            let m = dur("mean", mean)?.as_nanos();
            if m == 0 {
                return Err(
                    Problem::new("mean", "an exponential distribution needs a mean > 0")
                        .with_hint(NO_TIME),
                );
            }
            Ok(Dist::Exp { mean: m as f64 })
        }
        DistSpec::Uniform { min, max } => {
            let lo = dur("min", min)?.as_nanos();
            let hi = dur("max", max)?.as_nanos();
            if hi < lo {
                return Err(
                    Problem::new("max", format!("max ({max}) is below min ({min})"))
                        .with_hint("swap them"),
                );
            }
            Ok(Dist::Uniform {
                lo: lo as f64,
                hi: hi as f64,
            })
        }
        DistSpec::LogNormal { median, p99 } => {
            let m = dur("median", median)?.as_nanos();
            let p = dur("p99", p99)?.as_nanos();
            if m == 0 {
                return Err(Problem::new(
                    "median",
                    format!("the median must be above 0, not {median}"),
                )
                .with_hint(NO_TIME));
            }
            if p <= m {
                return Err(Problem::new(
                    "p99",
                    format!("p99 ({p99}) must be above the median ({median}); a log-normal has a right tail"),
                ));
            }
            Dist::log_normal(m as f64, p as f64)
                .map_err(|e| Problem::new("p99", format!("invalid log-normal: {e}")))
        }
        DistSpec::Gamma { mean, cv } => {
            let m = dur("mean", mean)?.as_nanos();
            if m == 0 {
                return Err(
                    Problem::new("mean", format!("the mean must be above 0, not {mean}"))
                        .with_hint(NO_TIME),
                );
            }
            if !cv.is_finite() || *cv <= 0.0 {
                return Err(Problem::new(
                    "cv",
                    format!("cv must be a finite number > 0, not {cv}"),
                )
                .with_hint("cv = 1 is exponential, smaller is more regular"));
            }
            Dist::gamma(m as f64, *cv).map_err(|e| {
                Problem::new(
                    "cv",
                    format!("invalid gamma ({e}): cv = {cv} is too extreme for a mean of {mean}"),
                )
                .with_hint("try a cv between 0.01 and 100")
            })
        }
        DistSpec::Empirical(samples) => {
            if samples.is_empty() {
                return Err(Problem::new(
                    "",
                    "an empirical distribution needs at least one sample",
                ));
            }
            let mut v = Vec::with_capacity(samples.len());
            for (i, s) in samples.iter().enumerate() {
                v.push(dur(&format!("[{i}]"), s)?.as_nanos());
            }
            v.sort_unstable();
            Ok(Dist::Empirical(v.into_boxed_slice()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_parameters_are_reported_with_their_field() {
        let e = compile_dist(&DistSpec::Gamma {
            mean: "1ms".into(),
            cv: f64::NAN,
        })
        .unwrap_err();
        assert_eq!(e.path, "cv");
        let e = compile_dist(&DistSpec::LogNormal {
            median: "10ms".into(),
            p99: "5ms".into(),
        })
        .unwrap_err();
        assert_eq!(e.path, "p99");
        let e = compile_dist(&DistSpec::Exp { mean: "0ms".into() }).unwrap_err();
        assert!(e.message.contains("mean > 0"));
        assert_eq!(
            e.hint.as_deref(),
            Some("for no time at all write Const(\"0ms\")")
        );
    }

    #[test]
    fn compiled_distributions_have_the_written_moments() {
        let d = compile_dist(&DistSpec::LogNormal {
            median: "8ms".into(),
            p99: "60ms".into(),
        })
        .unwrap();
        assert!((d.median_ns() - 8e6).abs() < 1.0);
        let g = compile_dist(&DistSpec::Gamma {
            mean: "120ms".into(),
            cv: 0.5,
        })
        .unwrap();
        assert!((g.mean_ns() - 120e6).abs() < 1e-3 && (g.scv() - 0.25).abs() < 1e-12);
        let e = compile_dist(&DistSpec::Empirical(vec!["6ms".into(), "1ms".into()])).unwrap();
        assert_eq!(e.mean_ns(), 3.5e6);
        assert!(matches!(
            compile_dist(&DistSpec::Const("0ms".into())),
            Ok(Dist::Zero)
        ));
    }
}

//! Distributions as written (`Exp(mean: "2ms")`, `LogNormal(median: …, p99: …)`,
//! `LogNormal(mean: …, cv: …)`) compiled into samplers, with every parameter checked.

use crate::dist::Dist;
use crate::error::Problem;
use crate::spec::DistSpec;
use crate::time::{parse_duration, SimDuration};

/// Checks a distribution as written and compiles it; a problem is at the offending
/// parameter's path relative to the distribution (`mean`, `[i]` for a sample of an empirical
/// one, empty for the distribution itself).
pub fn compile_dist(spec: &DistSpec) -> Result<Dist, Problem> {
    let dur = duration;
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
        DistSpec::LogNormal {
            median,
            p99,
            mean,
            cv,
        } => log_normal(median, p99, mean, cv),
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

/// The hint for a zero where a positive time is needed.
const NO_TIME: &str = "for no time at all write Const(\"0ms\")";

/// Both forms of a log-normal, for hints.
const LOG_NORMAL_FORMS: &str =
    "e.g. LogNormal(median: \"8ms\", p99: \"60ms\") or LogNormal(mean: \"10ms\", cv: 1.5)";

/// A log-normal given by exactly one of its two pairs of parameters: `median` and `p99`, or
/// `mean` and `cv`.
fn log_normal(
    median: &Option<String>,
    p99: &Option<String>,
    mean: &Option<String>,
    cv: &Option<f64>,
) -> Result<Dist, Problem> {
    let by_moments = [("mean", mean.is_some()), ("cv", cv.is_some())];
    if median.is_some() || p99.is_some() {
        if let Some((field, _)) = by_moments.iter().find(|(_, given)| *given) {
            return Err(Problem::new(
                *field,
                "a log-normal is given by `median` and `p99` or by `mean` and `cv`, not by fields of both",
            )
            .with_hint("keep one pair"));
        }
    }
    match (median, p99, mean, cv) {
        (Some(median), Some(p99), _, _) => log_normal_by_quantiles(median, p99),
        (_, _, Some(mean), Some(cv)) => log_normal_by_moments(mean, *cv),
        (None, None, None, None) => Err(Problem::new(
            "",
            "a log-normal needs either `median` and `p99`, or `mean` and `cv`",
        )
        .with_hint(LOG_NORMAL_FORMS)),
        _ => {
            let (given, missing, example) = match (median, p99, mean) {
                (Some(_), _, _) => ("median", "p99", "LogNormal(median: \"8ms\", p99: \"60ms\")"),
                (_, Some(_), _) => ("p99", "median", "LogNormal(median: \"8ms\", p99: \"60ms\")"),
                (_, _, Some(_)) => ("mean", "cv", "LogNormal(mean: \"10ms\", cv: 1.5)"),
                _ => ("cv", "mean", "LogNormal(mean: \"10ms\", cv: 1.5)"),
            };
            Err(Problem::new(
                "",
                format!("a log-normal given by its `{given}` needs `{missing}` too"),
            )
            .with_hint(format!("e.g. {example}")))
        }
    }
}

/// `LogNormal(median, p99)`: 0 < median < p99.
fn log_normal_by_quantiles(median: &str, p99: &str) -> Result<Dist, Problem> {
    let m = duration("median", median)?.as_nanos();
    let p = duration("p99", p99)?.as_nanos();
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
            format!(
                "p99 ({p99}) must be above the median ({median}); a log-normal has a right tail"
            ),
        ));
    }
    Dist::log_normal(m as f64, p as f64)
        .map_err(|e| Problem::new("p99", format!("invalid log-normal: {e}")))
}

/// `LogNormal(mean, cv)`: mean > 0, cv finite and > 0.
fn log_normal_by_moments(mean: &str, cv: f64) -> Result<Dist, Problem> {
    let m = duration("mean", mean)?.as_nanos();
    if m == 0 {
        return Err(
            Problem::new("mean", format!("the mean must be above 0, not {mean}"))
                .with_hint(NO_TIME),
        );
    }
    if !cv.is_finite() || cv <= 0.0 {
        return Err(
            Problem::new("cv", format!("cv must be a finite number > 0, not {cv}"))
                .with_hint("cv is the standard deviation over the mean; 1.5 is a long tail"),
        );
    }
    Dist::log_normal_mean_cv(m as f64, cv).map_err(|e| {
        Problem::new(
            "cv",
            format!("invalid log-normal ({e}): cv = {cv} is too extreme"),
        )
        .with_hint("try a cv between 0.01 and 100")
    })
}

/// A duration as written, or a problem at `field`.
fn duration(field: &str, text: &str) -> Result<SimDuration, Problem> {
    parse_duration(text).map_err(|e| Problem::new(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A distribution as written in a topology file.
    fn parse(text: &str) -> DistSpec {
        ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)
            .unwrap()
    }

    /// The problem with a distribution as written: `(path, message; hint)`.
    fn problem(text: &str) -> (String, String) {
        let p = compile_dist(&parse(text)).unwrap_err();
        (p.path.clone(), p.text().into_owned())
    }

    #[test]
    fn bad_parameters_are_reported_with_their_field() {
        let e = compile_dist(&DistSpec::Gamma {
            mean: "1ms".into(),
            cv: f64::NAN,
        })
        .unwrap_err();
        assert_eq!(e.path, "cv");
        let e = compile_dist(&parse(r#"LogNormal(median: "10ms", p99: "5ms")"#)).unwrap_err();
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
        let d = compile_dist(&parse(r#"LogNormal(median: "8ms", p99: "60ms")"#)).unwrap();
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

    #[test]
    fn a_log_normal_by_mean_and_cv_parses_and_has_them() {
        let spec = parse(r#"LogNormal(mean: "10ms", cv: 1.5)"#);
        assert!(matches!(
            &spec,
            DistSpec::LogNormal { median: None, p99: None, mean: Some(m), cv: Some(cv) }
                if m == "10ms" && *cv == 1.5
        ));
        let d = compile_dist(&spec).unwrap();
        assert!(matches!(d, Dist::LogNormal { .. }));
        assert!((d.mean_ns() / 10e6 - 1.0).abs() < 1e-12);
        assert!((d.scv() / 2.25 - 1.0).abs() < 1e-9);
        // The median of a log-normal is its mean over √(1 + cv²).
        assert!((d.median_ns() - 10e6 / 3.25f64.sqrt()).abs() < 1e-3);
    }

    // One test per message of the new form.

    #[test]
    fn fields_of_both_forms_are_reported_at_the_first_of_the_second() {
        let both = "a log-normal is given by `median` and `p99` or by `mean` and `cv`, not by fields of both; keep one pair";
        assert_eq!(
            problem(r#"LogNormal(median: "8ms", p99: "60ms", mean: "10ms", cv: 1.5)"#),
            ("mean".to_string(), both.to_string())
        );
        assert_eq!(
            problem(r#"LogNormal(median: "8ms", cv: 1.5)"#),
            ("cv".to_string(), both.to_string())
        );
    }

    #[test]
    fn a_log_normal_without_parameters_is_reported() {
        assert_eq!(
            problem("LogNormal()"),
            (
                String::new(),
                "a log-normal needs either `median` and `p99`, or `mean` and `cv`; e.g. LogNormal(median: \"8ms\", p99: \"60ms\") or LogNormal(mean: \"10ms\", cv: 1.5)".to_string()
            )
        );
    }

    #[test]
    fn half_a_pair_is_reported_with_the_missing_field() {
        for (text, given, missing) in [
            (r#"LogNormal(median: "8ms")"#, "median", "p99"),
            (r#"LogNormal(p99: "60ms")"#, "p99", "median"),
            (r#"LogNormal(mean: "10ms")"#, "mean", "cv"),
            ("LogNormal(cv: 1.5)", "cv", "mean"),
        ] {
            let (path, text) = problem(text);
            assert_eq!(path, "");
            assert!(
                text.starts_with(&format!(
                    "a log-normal given by its `{given}` needs `{missing}` too; e.g. LogNormal("
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn a_zero_mean_is_reported() {
        assert_eq!(
            problem(r#"LogNormal(mean: "0ms", cv: 1.5)"#),
            (
                "mean".to_string(),
                "the mean must be above 0, not 0ms; for no time at all write Const(\"0ms\")"
                    .to_string()
            )
        );
        let (path, text) = problem(r#"LogNormal(mean: "10", cv: 1.5)"#);
        assert_eq!(path, "mean");
        assert!(text.starts_with("`10` has no unit"), "{text}");
    }

    #[test]
    fn a_cv_that_is_not_a_positive_finite_number_is_reported() {
        for (cv, shown) in [("0.0", "0"), ("-1.0", "-1"), ("NaN", "NaN"), ("inf", "inf")] {
            assert_eq!(
                problem(&format!(r#"LogNormal(mean: "10ms", cv: {cv})"#)),
                (
                    "cv".to_string(),
                    format!("cv must be a finite number > 0, not {shown}; cv is the standard deviation over the mean; 1.5 is a long tail")
                )
            );
        }
    }

    #[test]
    fn a_cv_too_large_for_a_log_normal_is_reported() {
        let (path, text) = problem(r#"LogNormal(mean: "10ms", cv: 1e200)"#);
        assert_eq!(path, "cv");
        assert!(text.starts_with("invalid log-normal ("), "{text}");
        assert!(text.contains("): cv = 1000"), "{text}");
        assert!(
            text.ends_with(" is too extreme; try a cv between 0.01 and 100"),
            "{text}"
        );
    }
}

//! Overrides: a topology changed by `PATH=VALUE` edits, addressed by the same paths as the
//! error messages.
//!
//! ```text
//! services[payment].steps[0].timeout=300ms
//! workload[shoppers].arrivals.per_second=400
//! services[checkout].steps[1]=Publish(topic: "orders")
//! services[audit]=(workers: 2, work: Exp(mean: "5ms"))
//! ```
//!
//! An override edits the topology's text: the value at the path is replaced by the new RON
//! value, and a field, map key or list element that is not written yet is added. The result
//! is then loaded like any file, so a bad value gets exactly the message it would get in a
//! file, and a misspelt field its "did you mean". A path that leads nowhere (a service that
//! does not exist, an index past the end) is an error here, with the closest name.
//!
//! # Values on a command line
//! A value is RON. For convenience a single word or a duration may be written without
//! quotes: `300ms`, `1.5s` and `payment` mean `"300ms"`, `"1.5s"` and `"payment"`. A value
//! that is a number (`400`, `0.5`, `-1`, `1e3`), `true`/`false`, starts with a capital letter
//! (a variant such as `Fail` or `Exp(mean: "2ms")`) or with a bracket or a quote is taken as
//! written.

use super::locate::splice;
use crate::error::Problem;
use std::fmt;
use std::str::FromStr;

/// One edit of a topology: the value at `path` becomes `value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// Where, as in error messages: `services[payment].steps[0].timeout`.
    pub path: String,
    /// The new value, as RON text (`"300ms"`, `400`, `Publish(topic: "orders")`).
    pub value: String,
}

impl Override {
    /// An override of `path` with the RON text `value`, taken as written.
    pub fn new(path: impl Into<String>, value: impl Into<String>) -> Override {
        Override {
            path: path.into(),
            value: value.into(),
        }
    }
}

impl FromStr for Override {
    type Err = String;

    /// Reads `PATH=VALUE`, with the command-line conveniences of the module docs.
    fn from_str(s: &str) -> Result<Override, String> {
        let Some((path, value)) = s.split_once('=') else {
            return Err(format!(
                "`{s}` is not PATH=VALUE; write e.g. services[payment].steps[0].timeout=300ms"
            ));
        };
        let (path, value) = (path.trim(), value.trim());
        if path.is_empty() {
            return Err(format!("`{s}` has no path before `=`"));
        }
        if value.is_empty() {
            return Err(format!("`{s}` has no value after `=`"));
        }
        Ok(Override::new(path, ron_value(value)))
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// A command-line value as RON: bare words and durations are quoted (see the module docs).
pub fn ron_value(value: &str) -> String {
    let first = value.chars().next().unwrap_or(' ');
    let as_written = value.parse::<f64>().is_ok()
        || matches!(value, "true" | "false")
        || first.is_ascii_uppercase()
        || matches!(first, '"' | '(' | '[' | '{' | '\'')
        || value.starts_with("r#\"")
        || value.starts_with("r\"");
    if as_written {
        value.to_string()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `text` with every override applied, in order (a later one sees the earlier ones' edits).
/// The error names the override's path and what is wrong with it; the result is not
/// validated here (load it).
pub fn apply(text: &str, overrides: &[Override]) -> Result<String, Problem> {
    let mut text = text.to_string();
    for o in overrides {
        text = splice(&text, &o.path, &o.value).map_err(|e| Problem {
            path: o.path.clone(),
            message: if e.found.is_empty() {
                e.message
            } else {
                format!("{} (found `{}`)", e.message, e.found)
            },
            line: None,
            hint: None,
        })?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"// a comment
Topology(
    workload: [(name: "shoppers", entry: "api", arrivals: Poisson(per_second: 200))],
    services: {
        "api": (workers: 8, steps: [Call(to: "payment", timeout: "1s"), Call(to: "db")]),
        "payment": (work: Exp(mean: "2ms")),
        "db": (),
    },
)
"#;

    fn set(text: &str, path: &str, value: &str) -> Result<String, Problem> {
        apply(text, &[Override::new(path, value)])
    }

    #[test]
    fn replaces_a_written_value() {
        let t = set(BASE, "services[api].steps[0].timeout", "\"300ms\"").unwrap();
        assert!(
            t.contains(r#"Call(to: "payment", timeout: "300ms")"#),
            "{t}"
        );
        let t = set(BASE, "workload[shoppers].arrivals.per_second", "400").unwrap();
        assert!(t.contains("Poisson(per_second: 400)"), "{t}");
        let t = set(BASE, "services[api].workers", "2").unwrap();
        assert!(t.contains(r#""api": (workers: 2, steps"#), "{t}");
        // A whole step, with a different variant.
        let t = set(
            BASE,
            "services[api].steps[1]",
            r#"Publish(topic: "orders")"#,
        )
        .unwrap();
        assert!(t.contains(r#"Call(to: "payment", timeout: "1s"), Publish(topic: "orders")]"#));
        // The lines stay where they were.
        assert_eq!(t.lines().count(), BASE.lines().count());
    }

    #[test]
    fn adds_what_is_not_written() {
        let t = set(BASE, "services[api].steps[1].timeout", "\"50ms\"").unwrap();
        assert!(t.contains(r#"Call(to: "db", timeout: "50ms")"#), "{t}");
        let t = set(BASE, "services[db].workers", "4").unwrap();
        assert!(t.contains(r#""db": ( workers: 4 )"#), "{t}");
        let t = set(BASE, "services[api].steps[1].retry.attempts", "3").unwrap();
        assert!(t.contains(r#"Call(to: "db", retry: (attempts: 3))"#), "{t}");
        let t = set(BASE, "run.duration", "\"10m\"").unwrap();
        assert!(t.contains(r#"run: (duration: "10m")"#), "{t}");
        let t = set(BASE, "services[audit]", "(workers: 1)").unwrap();
        assert!(
            t.contains(r#""db": (),  "audit": (workers: 1)"#)
                || t.contains(r#""audit": (workers: 1)"#),
            "{t}"
        );
        let t = set(BASE, "services[api].steps[2]", r#"Call(to: "db")"#).unwrap();
        assert!(t.contains(r#"Call(to: "db"), Call(to: "db")]"#), "{t}");
    }

    #[test]
    fn paths_that_lead_nowhere_name_the_closest() {
        let e = set(BASE, "services[paymnet].workers", "2").unwrap_err();
        assert_eq!(e.path, "services[paymnet].workers");
        assert!(
            e.message.contains("did you mean `payment`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("found `services`"), "{}", e.message);
        let e = set(BASE, "services[api].steps[5].timeout", "\"1s\"").unwrap_err();
        assert!(
            e.message.contains("no element [5]") && e.message.contains("has 2"),
            "{}",
            e.message
        );
        let e = set(BASE, "workload[shopers].timeout", "\"1s\"").unwrap_err();
        assert!(
            e.message.contains("did you mean `shoppers`"),
            "{}",
            e.message
        );
        let e = set(BASE, "services[api].stps[0].timeout", "\"1s\"").unwrap_err();
        assert!(e.message.contains("did you mean `steps`"), "{}", e.message);
        let e = set(BASE, "services[api].workers.x", "1").unwrap_err();
        assert!(e.message.contains("not a struct"), "{}", e.message);
        assert!(set(BASE, "", "1").is_err());
    }

    #[test]
    fn command_line_values() {
        let o: Override = "services[payment].steps[0].timeout=300ms".parse().unwrap();
        assert_eq!(o.value, "\"300ms\"");
        let o: Override = "workload[shoppers].arrivals.per_second = 400"
            .parse()
            .unwrap();
        assert_eq!(
            (o.path.as_str(), o.value.as_str()),
            ("workload[shoppers].arrivals.per_second", "400")
        );
        for v in [
            "0.5",
            "-1",
            "1e3",
            "true",
            "Fail",
            r#"Exp(mean: "2ms")"#,
            r#""x""#,
            "[1, 2]",
        ] {
            assert_eq!(ron_value(v), v);
        }
        assert_eq!(ron_value("payment"), "\"payment\"");
        assert_eq!(ron_value("1.5s"), "\"1.5s\"");
        assert!("no-equals"
            .parse::<Override>()
            .unwrap_err()
            .contains("PATH=VALUE"));
        assert!("=3".parse::<Override>().is_err());
        assert!("a=".parse::<Override>().is_err());
        assert_eq!(o.to_string(), "workload[shoppers].arrivals.per_second=400");
    }
}

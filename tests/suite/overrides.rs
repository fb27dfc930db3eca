//! Overrides and variants: every path form works, every bad path and bad value gets a message
//! (a bad value the same message as in a file), and a file's `variants:` are checked when it
//! loads.

use crate::common::model;
use microsim::spec::overrides::Override;
use microsim::LoadError;

const SHOP: &str = r#"Topology(
    name: "shop",
    run: (duration: "20s", seed: 3),
    workload: [(name: "shoppers", entry: "api", arrivals: Poisson(per_second: 100))],
    services: {
        "api": (workers: 8, work: Exp(mean: "1ms"),
                steps: [Call(to: "payment", timeout: "1s"), Call(to: "db")]),
        "payment": (workers: 4, work: Exp(mean: "5ms")),
        "db": (workers: 4, work: Exp(mean: "2ms")),
    },
    topics: { "orders": (partitions: 2, subscribers: [(service: "db")]) },
    variants: {
        "short": { "services[api].steps[0].timeout": "3ms" },
        "async": { "services[api].steps[1]": Publish(topic: "orders") },
        "busy": {
            "workload[shoppers].arrivals.per_second": 300,
            "services[payment].workers": 2,
        },
    },
)"#;

fn set(path: &str, value: &str) -> Result<microsim::Model, LoadError> {
    model(SHOP).with_overrides(&[format!("{path}={value}").parse::<Override>().unwrap()])
}

fn message(e: &LoadError) -> String {
    e.to_string()
}

#[test]
fn every_path_form_sets_what_it_names() {
    // A struct field of a step, a duration without quotes.
    let m = set("services[api].steps[0].timeout", "300ms").unwrap();
    assert_eq!(
        m.calls()[0].timeout.map(|t| t.as_nanos()),
        Some(300_000_000)
    );
    // A field inside a variant (Poisson) of a list element found by name.
    let m = set("workload[shoppers].arrivals.per_second", "400").unwrap();
    assert_eq!(m.entries()[0].arrivals.peak_rate(0, 1_000_000_000), 400.0);
    // A field not written yet, and the struct on the way to it.
    let m = set("services[api].steps[1].retry.attempts", "3").unwrap();
    assert_eq!(m.calls()[1].retry.as_ref().map(|r| r.attempts), Some(3));
    let m = set("run.warmup", "2s").unwrap();
    assert_eq!(m.run_config().warmup.as_nanos(), 2_000_000_000);
    // A whole step: a sync call becomes a publish.
    let m = set("services[api].steps[1]", r#"Publish(topic: "orders")"#).unwrap();
    assert_eq!((m.calls().len(), m.publishes().len()), (1, 1));
    // A whole service, added.
    let m = set("services[audit]", r#"(workers: 2, work: Exp(mean: "5ms"))"#).unwrap();
    assert!(m.service_id("audit").is_some());
    // A step appended one past the end.
    let m = set("services[api].steps[2]", r#"Call(to: "db")"#).unwrap();
    assert_eq!(m.calls().len(), 3);
    // A whole list.
    let m = set("services[api].steps", "[]").unwrap();
    assert!(m.calls().is_empty());
    // Overrides apply in order: the second sees the first.
    let m = model(SHOP)
        .with_overrides(&[
            "services[audit]=(workers: 1)".parse().unwrap(),
            "services[audit].workers=5".parse().unwrap(),
        ])
        .unwrap();
    assert_eq!(
        m.services()[m.service_id("audit").unwrap().0 as usize].workers,
        5
    );
}

#[test]
fn an_overridden_model_runs_and_differs() {
    let base = model(SHOP).run(&Default::default()).unwrap();
    let short = set("services[api].steps[0].timeout", "3ms")
        .unwrap()
        .run(&Default::default())
        .unwrap();
    let timeouts = |r: &microsim::Report| r.entries[0].outcomes.timeout;
    assert_eq!(timeouts(&base), 0);
    // Payment takes 5 ms on average: a 3 ms timeout cuts most calls short.
    assert!(
        timeouts(&short) > base.entries[0].offered / 3,
        "{}",
        timeouts(&short)
    );
}

#[test]
fn a_path_that_leads_nowhere_names_the_closest() {
    let e = set("services[paymnet].workers", "2").unwrap_err();
    assert!(
        message(&e)
            .contains("services[paymnet].workers: no `paymnet` here; did you mean `payment`?"),
        "{e}"
    );
    let e = set("services[api].steps[7].timeout", "1s").unwrap_err();
    assert!(
        message(&e).contains("there is no element [7]: it has 2 (indices 0 to 1)"),
        "{e}"
    );
    let e = set("workload[shopers].timeout", "1s").unwrap_err();
    assert!(message(&e).contains("did you mean `shoppers`?"), "{e}");
    let e = set("servics[api].workers", "2").unwrap_err();
    assert!(message(&e).contains("did you mean `services`?"), "{e}");
}

#[test]
fn a_misspelt_last_field_gets_its_did_you_mean() {
    let e = set("services[api].steps[0].timout", "1s").unwrap_err();
    let shown = message(&e);
    assert!(shown.contains("services[api].steps[0].timout"), "{shown}");
    assert!(shown.contains("did you mean `timeout`?"), "{shown}");
}

#[test]
fn a_bad_value_gets_the_message_a_file_gets() {
    // The same mistake written in the file and made by an override: the same message.
    let in_file = microsim::parse(
        &SHOP.replace(r#"timeout: "1s""#, r#"timeout: "1 fortnight""#),
        "shop.ron",
    )
    .unwrap_err();
    let by_override = set("services[api].steps[0].timeout", r#""1 fortnight""#).unwrap_err();
    let problem = |e: &LoadError| {
        let p = &e.problems()[0];
        (p.path.clone(), p.message.clone())
    };
    assert_eq!(problem(&in_file), problem(&by_override));
    // A value of the wrong type.
    let e = set("services[api].workers", "lots").unwrap_err();
    assert!(message(&e).contains("services[api].workers"), "{e}");
    let e = set("services[api].steps[0].to", "nosuch").unwrap_err();
    assert!(message(&e).contains("unknown service `nosuch`"), "{e}");
    // The origin says which edit was made.
    assert!(
        message(&e).contains("services[api].steps[0].to=\"nosuch\""),
        "{e}"
    );
}

#[test]
fn a_file_declares_named_variants() {
    let m = model(SHOP);
    let names: Vec<&str> = m.variants().iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["short", "async", "busy"]);
    let busy = m.variant("busy").unwrap();
    assert_eq!(busy.entries()[0].arrivals.peak_rate(0, 1), 300.0);
    assert_eq!(busy.services()[1].workers, 2);
    let a = m.variant("async").unwrap();
    assert_eq!(a.publishes().len(), 1);
    let e = m.variant("asnyc").unwrap_err();
    assert!(
        message(&e).contains("no variant `asnyc`; did you mean `async`?"),
        "{e}"
    );
}

#[test]
fn a_broken_variant_stops_the_file_from_loading() {
    let text = SHOP.replace(
        r#""services[payment].workers": 2"#,
        r#""services[paymnt].workers": 2"#,
    );
    let e = microsim::parse(&text, "shop.ron").unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("variants[busy]"), "{shown}");
    assert!(shown.contains("did you mean `payment`?"), "{shown}");
    // The problem is reported at the variant's line.
    let line = text.lines().position(|l| l.contains("\"busy\"")).unwrap() + 1;
    assert_eq!(e.problems()[0].line, Some(line), "{shown}");
    let text = SHOP.replace(r#""3ms""#, r#""3 parsecs""#);
    let e = microsim::parse(&text, "shop.ron").unwrap_err();
    assert!(e.to_string().contains("variants[short]"), "{e}");
}

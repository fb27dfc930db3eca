//! The library as a teacher uses it: topologies written back as RON, the builder, edits that
//! are validated, report accessors, and the example programs.

use crate::common::{bundled, opts, root};
use microsim::builder::*;
use microsim::spec::parse_ron;
use microsim::time::SimDuration;
use microsim::Model;

/// Every bundled topology, read and written back as RON, reads as the same spec, compiles to
/// the same model (its short run gives a byte-identical report) and writes the same text
/// again.
#[test]
fn every_bundled_topology_round_trips_through_ron() {
    for path in bundled() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = parse_ron(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = spec.to_ron();
        let back = parse_ron(&written).unwrap_or_else(|e| panic!("{name}: {e}\n{written}"));
        assert_eq!(back, spec, "{name}: the spec differs when read back");
        assert_eq!(
            back.to_ron(),
            written,
            "{name}: written twice, the texts differ"
        );

        let original = microsim::parse(&text, &name).unwrap();
        let again = microsim::parse(&written, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.variants(), original.variants(), "{name}");
        let options = opts(5.0, 1.0);
        let (a, b) = (
            original.run(&options).unwrap().to_json(),
            again.run(&options).unwrap().to_json(),
        );
        assert!(a == b, "{name}: the reports of the two models differ");
    }
}

/// The builder's spelling of checkout.ron: the same spec as the file, so the same model.
fn checkout_built() -> Topology {
    let payment = "services[gateway].steps[1].branches[0].steps[0]";
    Topology::new("checkout")
        .duration("4m")
        .warmup("10s")
        .seed(7)
        .entry(Entry::service(
            "shoppers",
            "gateway",
            Poisson::per_second(150)
                .step_at("1m", 400)
                .step_at("2m", 150),
        ))
        .service(
            "gateway",
            Service::new()
                .replicas(2)
                .workers(20)
                .queue(20)
                .work(Exp::mean_ms(2))
                .call("inventory", Call::new().timeout_ms(200))
                .choice(
                    Choice::new()
                        .branch(0.4, Steps::new().call("payment", Call::new().timeout("5s")))
                        .branch(0.6, Steps::new()),
                ),
        )
        .service(
            "inventory",
            Service::new()
                .replicas(3)
                .workers(16)
                .work(LogNormal::median_p99_ms(8, 60))
                .errors(0.001),
        )
        .service(
            "payment",
            Service::new()
                .replicas(2)
                .workers(4)
                .queue(200)
                .work(Gamma::mean_cv_ms(60, 0.5))
                .errors(0.002),
        )
        .variant("short-timeout", [format!("{payment}.timeout=300ms")])
        .variant(
            "bulkhead",
            [format!("{payment}.bulkhead=(max_concurrent: 8)")],
        )
        .variant(
            "bulkhead-fallback",
            [
                format!("{payment}.bulkhead=(max_concurrent: 8)"),
                format!("{payment}.on_failure=Fallback(Const(\"1ms\"))"),
            ],
        )
        .variant(
            "breaker",
            [format!(
                "{payment}.breaker=(slow_call: \"200ms\", slow_call_rate: 0.5, window: Count(20), min_calls: 20, open_for: \"2s\")"
            )],
        )
}

/// checkout.ron built in Rust is the file's spec, compiles to the same model (a byte-identical
/// report, for the base and for a variant), and keeps its text, so overrides work on it.
#[test]
fn the_builder_makes_the_spec_a_file_holds() {
    let text = std::fs::read_to_string(root().join("topologies/checkout.ron")).unwrap();
    let mut from_file = parse_ron(&text).unwrap();
    let built = checkout_built();
    let mut spec = built.spec().unwrap();
    // The variants' values are RON text kept as written: the file wraps one over lines.
    assert_eq!(spec.variants.len(), from_file.variants.len());
    spec.variants = Default::default();
    from_file.variants = Default::default();
    assert_eq!(spec, from_file);

    let model = built.build().unwrap();
    let loaded = microsim::parse(&text, "checkout.ron").unwrap();
    let options = opts(30.0, 5.0);
    let same = |a: &Model, b: &Model| {
        a.run(&options).unwrap().to_json() == b.run(&options).unwrap().to_json()
    };
    assert!(
        same(&model, &loaded),
        "the built and the loaded model differ"
    );
    assert!(same(
        &model.variant("bulkhead").unwrap(),
        &loaded.variant("bulkhead").unwrap()
    ));
    // The model keeps the text it was written as; overrides edit it.
    assert_eq!(model.source(), built.to_ron().unwrap());
    let edited = model
        .with_overrides(&["services[payment].workers=8".parse().unwrap()])
        .unwrap();
    assert_eq!(edited.service("payment").map(|s| s.workers), Some(8));
    assert_eq!(model.service("payment").map(|s| s.workers), Some(4));
}

/// Every element the builder can make, against the same topology written by hand: the specs
/// are equal, so the builder leaves out what the file leaves out and every default is the
/// format's.
#[test]
fn the_builder_covers_the_format_with_its_defaults() {
    let written = r#"Topology(
        name: "everything",
        run: (duration: "90s", warmup: "5s", seed: 3, bucket: "500ms", max_in_flight: 50000,
              max_events_per_instant: 100000),
        deadlines: (propagate: true),
        workload: [
            (name: "users", entry: "api", timeout: "2s",
             arrivals: Poisson(per_second: 100, profile: [(at: "30s", per_second: 300, ramp: true),
                                                          (at: "60s", per_second: 100)])),
            (name: "clicks", publish: "events", arrivals: Constant(per_second: 20)),
            (name: "batch", send: "jobs", arrivals: Constant(per_second: 5)),
        ],
        services: {
            "api": (
                replicas: 2, workers: 16, queue: 32, work: Exp(mean: "1ms"), errors: 0.001,
                balancer: LeastOutstanding, failures: (mttf: "1h", mttr: "30s"),
                steps: [
                    Call(to: "db", timeout: "100ms", latency: Const("1ms"), probability: 0.9,
                         on_failure: Fallback(Uniform(min: "1ms", max: "2ms")),
                         retry: (attempts: 3,
                                 backoff: Exponential(base: "10ms", max: "1s", multiplier: 3),
                                 jitter: Full, on: [Error, Timeout], other_replica: false,
                                 budget: Envoy(percent: 20, min_concurrency: 5)),
                         breaker: (failure_rate: 0.4, slow_call_rate: 0.8, slow_call: "50ms",
                                   window: Time("10s"), min_calls: 10, open_for: "5s",
                                   half_open_calls: 3, automatic: true, max_half_open: "2s"),
                         bulkhead: (max_concurrent: 8, max_wait: "5ms"),
                         deadlines: (propagate: false, cancel: true)),
                    Call(to: "cache", on_failure: Ignore,
                         retry: (attempts: 2, backoff: Constant("5ms"),
                                 budget: TokenBucket(max_tokens: 10, token_ratio: 0.1))),
                    Work(Gamma(mean: "2ms", cv: 0.5)),
                    Parallel(branches: [[Call(to: "db")], [Work(Const("1ms"))]], probability: 0.5),
                    Choice(branches: [(weight: 1, steps: [Publish(topic: "events", keys: 16,
                               latency: Exp(mean: "2ms"), probability: 0.5,
                               when_down: Buffer(limit: 100))]),
                                      (weight: 3)], probability: 0.9),
                    Send(queue: "jobs", latency: Const("1ms"), probability: 0.1,
                         when_down: Wait(timeout: "1s")),
                    Publish(topic: "events", when_down: Wait()),
                ],
            ),
            "db": (workers: 4, work: LogNormal(median: "3ms", p99: "30ms"),
                   failures: (failure: Exp(mean: "2h"), repair: LogNormal(mean: "1m", cv: 1.5))),
            "cache": (nonblocking: (max_in_flight: 100), work: Empirical(["1ms", "2ms", "0.5ms"])),
            "mailer": (work: Exp(mean: "10ms")),
            "worker": (workers: 2, work: Exp(mean: "20ms")),
        },
        topics: {
            "events": (partitions: 4, retention: "1h", subscribers: [
                (service: "mailer", consumers: 2, session_timeout: "10s", max_attempts: 3,
                 retry_backoff: "100ms", on_exhausted: Block, commit_interval: "5s",
                 idempotent: "10m"),
            ]),
        },
        queues: {
            "jobs": (service: "worker", consumers: 2, prefetch: 4, visibility_timeout: "10s",
                     max_receives: 5, retry_delay: "1s", retention: "1d"),
        },
        faults: [
            (at: "20s", lasts: "10s", fault: Crash(service: "db", replicas: 1)),
            (at: "30s", lasts: "5s", fault: Hang(service: "cache")),
            (at: "40s", lasts: "5s", fault: Slowdown(service: "db", factor: 5)),
            (at: "50s", lasts: "5s", fault: ErrorBurst(service: "api", errors: 0.5, replicas: 1)),
            (at: "55s", lasts: "1s", fault: Partition(from: "api", to: "db")),
            (at: "60s", lasts: "1s", fault: Latency(from: "api", to: "db", add: Const("5ms"))),
            (at: "65s", lasts: "1s", fault: BrokerDown),
            (at: "70s", lasts: "1s", fault: LeaderDown(topic: "events", partition: 2)),
            (at: "75s", lasts: "1s", fault: BrokerSlow(add: Exp(mean: "10ms"))),
        ],
        variants: { "more-workers": { "services[api].workers": 32 } },
    )"#;
    let built = Topology::new("everything")
        .duration("90s")
        .warmup(SimDuration::from_secs(5))
        .seed(3)
        .bucket(std::time::Duration::from_millis(500))
        .max_in_flight(50_000)
        .max_events_per_instant(100_000)
        .deadlines(Deadlines::new().propagate(true))
        .entry(
            Entry::service(
                "users",
                "api",
                Poisson::per_second(100)
                    .ramp_to("30s", 300)
                    .step_at("60s", 100),
            )
            .timeout("2s"),
        )
        .entry(Entry::publish("clicks", "events", Constant::per_second(20)))
        .entry(Entry::send("batch", "jobs", Constant::per_second(5)))
        .service(
            "api",
            Service::new()
                .replicas(2)
                .workers(16)
                .queue(32)
                .work(Exp::mean("1ms"))
                .errors(0.001)
                .balancer(Balancer::LeastOutstanding)
                .failures(Failures::mttf_mttr("1h", "30s"))
                .call(
                    "db",
                    Call::new()
                        .timeout_ms(100)
                        .latency(Const::ms(1))
                        .probability(0.9)
                        .fallback(Uniform::ms(1, 2))
                        .retry(
                            Retry::attempts(3)
                                .backoff(Backoff::exponential("10ms", "1s").multiplier(3.0))
                                .jitter(Jitter::Full)
                                .on([RetryOn::Error, RetryOn::Timeout])
                                .other_replica(false)
                                .budget(Budget::envoy(20.0).min_concurrency(5)),
                        )
                        .breaker(
                            Breaker::new()
                                .failure_rate(0.4)
                                .slow_call_rate(0.8)
                                .slow_call_ms(50)
                                .window_time("10s")
                                .min_calls(10)
                                .open_for("5s")
                                .half_open_calls(3)
                                .automatic(true)
                                .max_half_open("2s"),
                        )
                        .bulkhead(Bulkhead::new(8).max_wait_ms(5))
                        .deadlines(Deadlines::new().propagate(false).cancel(true)),
                )
                .call(
                    "cache",
                    Call::new().ignore_failure().retry(
                        Retry::attempts(2)
                            .backoff(Backoff::constant_ms(5))
                            .budget(Budget::token_bucket(10.0, 0.1)),
                    ),
                )
                .then_work(Gamma::mean_cv("2ms", 0.5))
                .parallel(
                    Parallel::new()
                        .branch(Steps::new().call("db", Call::new()))
                        .branch(Steps::new().work(Const::of("1ms")))
                        .probability(0.5),
                )
                .choice(
                    Choice::new()
                        .branch(
                            1.0,
                            Steps::new().publish(
                                "events",
                                Publish::new()
                                    .keys(16)
                                    .latency(Exp::mean_ms(2))
                                    .probability(0.5)
                                    .when_down(WhenDown::buffer(100)),
                            ),
                        )
                        .branch(3.0, Steps::new())
                        .probability(0.9),
                )
                .send(
                    "jobs",
                    Enqueue::new()
                        .latency(Const::ms(1))
                        .probability(0.1)
                        .when_down(WhenDown::wait("1s")),
                )
                .publish("events", Publish::new().when_down(WhenDown::wait_forever())),
        )
        .service(
            "db",
            Service::new()
                .workers(4)
                .work(LogNormal::median_p99("3ms", "30ms"))
                .failures(
                    Failures::new()
                        .failure(Exp::mean("2h"))
                        .repair(LogNormal::mean_cv("1m", 1.5)),
                ),
        )
        .service(
            "cache",
            Service::new()
                .nonblocking(100)
                .work(Empirical::of(["1ms", "2ms", "0.5ms"])),
        )
        .service("mailer", Service::new().work(Exp::mean_ms(10)))
        .service("worker", Service::new().workers(2).work(Exp::mean_ms(20)))
        .topic(
            "events",
            Topic::new().partitions(4).retention("1h").subscriber(
                Subscriber::new("mailer")
                    .consumers(2)
                    .session_timeout("10s")
                    .max_attempts(3)
                    .retry_backoff("100ms")
                    .on_exhausted(Exhausted::Block)
                    .commit_interval("5s")
                    .idempotent("10m"),
            ),
        )
        .queue(
            "jobs",
            Queue::new("worker")
                .consumers(2)
                .prefetch(4)
                .visibility_timeout("10s")
                .max_receives(5)
                .retry_delay("1s")
                .retention("1d"),
        )
        .fault("20s", "10s", Fault::crash("db").replicas(1))
        .fault("30s", "5s", Fault::hang("cache"))
        .fault("40s", "5s", Fault::slowdown("db", 5.0))
        .fault("50s", "5s", Fault::error_burst("api", 0.5).replicas(1))
        .fault("55s", "1s", Fault::partition("api", "db"))
        .fault("60s", "1s", Fault::latency("api", "db", Const::ms(5)))
        .fault("65s", "1s", Fault::broker_down())
        .fault("70s", "1s", Fault::leader_down("events", 2))
        .fault("75s", "1s", Fault::broker_slow(Exp::mean_ms(10)))
        .variant("more-workers", ["services[api].workers=32"]);

    let from_text = parse_ron(written).unwrap();
    let spec = built.spec().unwrap();
    assert_eq!(spec, from_text);
    // And it is a valid topology that runs.
    let model = built.build().unwrap_or_else(|e| panic!("{e}"));
    let report = model.run(&opts(10.0, 1.0)).unwrap();
    assert!(report.entry("users").unwrap().offered > 0);
    assert_eq!(
        model.variant("more-workers").unwrap().services()[0].workers,
        32
    );
}

/// A bad value given to the builder is rejected by the one compiler, with the message the
/// same value gets in a file (at the same path; a built topology's problems have no line).
#[test]
fn the_builder_rejects_bad_values_with_the_files_messages() {
    let built = Topology::new("bad")
        .entry(Entry::service("users", "api", Poisson::per_second(10)))
        .service(
            "api",
            Service::new()
                .workers(0)
                .errors(1.5)
                .call("paymnet", Call::new().timeout_ms(-5)),
        )
        .service("payment", Service::new());
    let e = built.build().unwrap_err();
    let file = microsim::parse(
        r#"Topology(
            name: "bad",
            workload: [(name: "users", entry: "api", arrivals: Poisson(per_second: 10))],
            services: {
                "api": (workers: 0, errors: 1.5, steps: [Call(to: "paymnet", timeout: "-5ms")]),
                "payment": (),
            },
        )"#,
        "bad.ron",
    )
    .unwrap_err();
    let strip = |e: &microsim::LoadError| -> Vec<(String, String)> {
        e.problems()
            .iter()
            .map(|p| (p.path.clone(), p.text().into_owned()))
            .collect()
    };
    assert_eq!(strip(&e), strip(&file));
    assert_eq!(e.problems().len(), 4, "{e}");
    assert!(e.problems().iter().all(|p| p.line.is_none()));
    let shown = e.to_string();
    assert!(
        shown.starts_with("bad (built): 4 problems found:"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "services[api].steps[0].to: unknown service `paymnet`; did you mean `payment`?"
        ),
        "{shown}"
    );
    // A variant edit that is not PATH=VALUE, or whose value is not RON, is a problem too.
    let e = Topology::new("v")
        .service("s", Service::new())
        .variant("a", ["workers"])
        .variant("b", ["services[s].workers=(("])
        .build()
        .unwrap_err();
    let paths: Vec<&str> = e.problems().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["variants[a]", "variants[b]"], "{e}");
    // And one whose path leads nowhere fails the build, as in a file.
    let e = Topology::new("v")
        .entry(Entry::service("main", "s", Poisson::per_second(1)))
        .service("s", Service::new())
        .variant("c", ["services[t].workers=2"])
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("variants[c]"), "{e}");
}

/// The report's accessors find calls (by caller and callee, or by step path), topics and
/// their consumer groups, queues and publish steps by name; an unknown name finds nothing.
#[test]
fn report_accessors_find_calls_groups_and_queues() {
    let model = Topology::new("accessors")
        .duration("10s")
        .entry(Entry::service("users", "api", Poisson::per_second(50)))
        .service(
            "api",
            Service::new()
                .workers(4)
                .work(Exp::mean_ms(1))
                .call("db", Call::new())
                .call("db", Call::new().timeout_ms(50))
                .publish("orders", Publish::new())
                .send("jobs", Enqueue::new()),
        )
        .service("db", Service::new().workers(4).work(Exp::mean_ms(2)))
        .service("email", Service::new().work(Exp::mean_ms(1)))
        .service("worker", Service::new().work(Exp::mean_ms(1)))
        .topic("orders", Topic::new().subscriber(Subscriber::new("email")))
        .queue("jobs", Queue::new("worker"))
        .build()
        .unwrap();
    let r = model.run(&Default::default()).unwrap();
    assert_eq!(r.call("api", "db"), Some(&r.calls[0]));
    assert_eq!(r.call_at("services[api].steps[1]"), Some(&r.calls[1]));
    assert_eq!(r.call_at("services[api].steps[1]").unwrap().to, "db");
    assert!(r.call("db", "api").is_none() && r.call_at("services[api].steps[9]").is_none());
    assert_eq!(r.topic("orders"), Some(&r.topics[0]));
    let group = r.group("orders", "email").unwrap();
    assert!(group.consumed > 0);
    assert!(r.group("orders", "worker").is_none() && r.group("nope", "email").is_none());
    assert_eq!(r.queue("jobs").unwrap().service, "worker");
    assert!(r.queue("orders").is_none());
    assert_eq!(r.publish("api", "jobs"), Some(&r.publishes[1]));
    assert_eq!(
        r.publish("api", "orders").unwrap().step,
        "services[api].steps[2]"
    );
}

/// A model is read through methods named for its parts, each finding by name what the file
/// names (and nothing for a name it does not hold), and the slices in file order.
#[test]
fn model_accessors_find_services_calls_entries_topics_and_queues() {
    let model = Topology::new("accessors")
        .duration("10s")
        .warmup("1s")
        .seed(5)
        .entry(Entry::service("users", "api", Poisson::per_second(50)))
        .service(
            "api",
            Service::new()
                .workers(4)
                .call("db", Call::new())
                .call("db", Call::new().timeout_ms(50))
                .publish("orders", Publish::new())
                .send("jobs", Enqueue::new()),
        )
        .service("db", Service::new().replicas(2))
        .service("email", Service::new())
        .service("worker", Service::new())
        .topic("orders", Topic::new().subscriber(Subscriber::new("email")))
        .queue("jobs", Queue::new("worker"))
        .variant("more", ["services[db].replicas=3"])
        .build()
        .unwrap();
    assert_eq!(model.name(), "accessors");
    assert_eq!(model.origin(), "accessors (built)");
    let run = model.run_config();
    assert_eq!(
        (run.duration, run.warmup, run.seed),
        (SimDuration::from_secs(10), SimDuration::from_secs(1), 5)
    );
    let names: Vec<&str> = model.services().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "db", "email", "worker"]);
    let db = model.service_id("db").unwrap();
    assert_eq!(model.service_at(db).replicas, 2);
    assert_eq!(model.service("db").map(|s| s.replicas), Some(2));
    assert!(model.service("dbx").is_none() && model.service_id("dbx").is_none());
    // Calls: the first from api to db, or one by its path.
    assert_eq!(model.calls().len(), 2);
    assert!(model.call("api", "db").unwrap().timeout.is_none());
    let second = model.call_at("services[api].steps[1]").unwrap();
    assert_eq!(second.timeout, Some(SimDuration::from_millis(50)));
    assert_eq!(second.to, db);
    assert!(model.call("db", "api").is_none() && model.call_at("services[api].steps[7]").is_none());
    assert_eq!(model.call_label(microsim::model::CallId(1)), "api → db");
    // api's body: the four steps, in the block the service names.
    assert_eq!(model.block(model.service("api").unwrap().body).len(), 4);
    assert_eq!(
        model.entry("users").map(|e| e.target.service()),
        Some(Some(model.service_id("api").unwrap()))
    );
    assert!(model.entry("nobody").is_none());
    assert_eq!(model.topic("orders").map(|t| t.subscribers.len()), Some(1));
    assert_eq!(
        model.queue("jobs").map(|q| q.service),
        model.service_id("worker")
    );
    assert!(model.topic("jobs").is_none() && model.queue("orders").is_none());
    assert_eq!(model.publishes().len(), 2);
    assert_eq!(
        model.publish("api", "jobs").map(|p| p.path.as_str()),
        Some("services[api].steps[3]")
    );
    assert!(model.publish("db", "jobs").is_none());
    // The call graph: a node per service, an edge per call step.
    assert_eq!(
        (
            model.call_graph().node_count(),
            model.call_graph().edge_count()
        ),
        (4, 2)
    );
    assert!(model.faults().is_empty());
    assert!(!model.propagate_entry_deadline() && !model.cancel_entry_on_timeout());
    let variants: Vec<&str> = model.variants().iter().map(|v| v.name.as_str()).collect();
    assert_eq!(variants, ["more"]);
    assert_eq!(
        model
            .variant("more")
            .unwrap()
            .service("db")
            .map(|s| s.replicas),
        Some(3)
    );
}

/// The spec route to a changed model: the spec a model's text reads as, edited by its fields
/// and compiled again, is checked as a file is; the model itself is unchanged.
#[test]
fn a_models_spec_edited_and_compiled_again_is_checked_as_a_file_is() {
    let text = std::fs::read_to_string(root().join("topologies/checkout.ron")).unwrap();
    let model = microsim::parse(&text, "checkout.ron").unwrap();
    assert_eq!(model.spec(), parse_ron(&text).unwrap());
    let mut spec = model.spec();
    fn payment(spec: &mut microsim::spec::TopologySpec) -> &mut microsim::spec::ServiceSpec {
        let at = spec.services.0.iter().position(|(n, _)| n == "payment");
        &mut spec.services.0[at.unwrap()].1
    }
    payment(&mut spec).workers = Some(0);
    let e = Model::from_spec(&spec, "checkout (edited)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "checkout (edited): 1 problem found:\n  - checkout (edited): services[payment].workers: workers must be at least 1 (a service without workers never answers)"
    );
    payment(&mut spec).workers = Some(8);
    let eight = Model::from_spec(&spec, "checkout (edited)").unwrap();
    assert_eq!(eight.service("payment").map(|s| s.workers), Some(8));
    assert_eq!(model.service("payment").map(|s| s.workers), Some(4));
}

/// Durations and times read from text, as the files write them.
#[test]
fn durations_parse_from_strings() {
    let d: SimDuration = "1.5s".parse().unwrap();
    assert_eq!(d, SimDuration::from_millis(1500));
    let e = "15".parse::<SimDuration>().unwrap_err();
    assert!(e.to_string().contains("has no unit"), "{e}");
    let t: microsim::time::SimTime = "t=2m".parse().unwrap();
    assert_eq!(t.as_secs_f64(), 120.0);
}

"""Dicts and the builder reach the same loader as files: the same model, the same runs."""

import datetime as dt
import math

import pytest

import microsim
from microsim import (Backoff, Breaker, Bulkhead, Const, Entry, Exp, Fault, Poisson, Queue,
                      Retry, Service, Steps, Subscriber, Topic, Topology)


def test_every_bundled_topology_round_trips_through_a_dict(topologies):
    files = sorted(topologies.glob("*.ron"))
    assert len(files) >= 10
    for f in files:
        model = microsim.load(f)
        d = model.to_dict()
        again = microsim.from_dict(d)
        assert again.to_dict() == d, f.name
        assert again.variants == model.variants, f.name
        # The same model runs the same: byte-identical reports for the same seed.
        a = model.run(seed=3, duration="3s", warmup="1s")
        b = again.run(seed=3, duration="3s", warmup="1s")
        assert a.to_json() == b.to_json(), f.name


def test_variants_survive_the_round_trip(topologies):
    model = microsim.load(topologies / "checkout.ron")
    again = microsim.from_dict(model.to_dict())
    for v in model.variants:
        assert again.variant(v).to_dict() == model.variant(v).to_dict(), v


def test_the_builder_makes_the_files_model(topologies):
    built = (Topology("mm1").duration("20m").warmup("10s").seed(1)
             .entry("clients", "server", Poisson(800))
             .service("server", Service(workers=1, work=Exp("1ms")))
             .build())
    loaded = microsim.load(topologies / "mm1.ron")
    assert built.to_dict() == loaded.to_dict()
    assert built.run(duration="15s").to_json() == loaded.run(duration="15s").to_json()
    assert built.origin == "mm1 (built)"


def test_builder_defaults_are_the_formats_and_analysis_is_the_product():
    shop = (Topology("shop").duration("60s").warmup("5s")
            .entry(Entry.service("users", "api", Poisson(100)))
            .service("api", Service(workers=4, work=Exp(mean_ms=5), errors=0.01)
                     .call("db", timeout_ms=500))
            .service("db", Service(workers=4, work=Exp(mean_ms=10), errors=0.02)))
    d = shop.to_dict()
    # Only what was given is written: no default creeps in.
    assert d["services"]["db"] == {"workers": 4, "work": {"Exp": {"mean": "10ms"}},
                                   "errors": 0.02}
    assert d["services"]["api"]["steps"] == [{"Call": {"to": "db", "timeout": "500ms"}}]
    model = shop.build()
    # Both must answer: 0.99 × 0.98.
    assert math.isclose(model.analyze().entry("users").availability, 0.9702, rel_tol=1e-9)
    # db is M/M/4 at ρ = 100/s × 10 ms / 4 = 0.25.
    assert math.isclose(model.analyze().service("db").utilization, 0.25, rel_tol=1e-9)


def test_builders_are_values():
    base = Service(workers=2, work=Exp(mean_ms=1))
    a = base.call("x")
    b = base.call("y")
    assert "steps" not in base.to_dict()
    assert a.to_dict()["steps"] == [{"Call": {"to": "x"}}]
    assert b.to_dict()["steps"] == [{"Call": {"to": "y"}}]


def test_every_part_of_the_builder_loads():
    t = (Topology("all").duration(dt.timedelta(seconds=30)).warmup(2).seed(5).bucket("500ms")
         .entry("web", "gateway", Poisson(50).step_at("10s", 80).ramp_to("20s", 40),
                timeout="2s")
         .entry(Entry.publish("events", "orders", Poisson(5)))
         .entry(Entry.send("batch", "jobs", Poisson(2)))
         .service("gateway", Service(replicas=2, workers=8, queue=20, work=Exp(mean_ms=1),
                                     balancer="LeastOutstanding")
                  .call("db", timeout_ms=200,
                        retry=Retry(3, backoff=Backoff.exponential("10ms", "200ms"),
                                    jitter="Full", on=["Error", "Timeout"]),
                        breaker=Breaker(failure_rate=0.5, window_count=20, open_for="2s"),
                        bulkhead=Bulkhead(6, max_wait_ms=5))
                  .choice((0.3, Steps().call("db", fallback=Const(ms=1))),
                          (0.7, Steps().work(Exp("1ms"))))
                  .parallel(Steps().call("db", ignore_failure=True), Steps())
                  .publish("orders", keys=10))
         .service("db", Service(workers=4, work=Exp(mean_ms=2), errors=0.01))
         .service("mailer", Service(workers=2, work=Exp(mean_ms=5)))
         .service("worker", Service(workers=2, work=Exp(mean_ms=20)))
         .topic("orders", Topic(partitions=4).subscriber("mailer", consumers=2, max_attempts=3))
         .queue("jobs", Queue("worker", consumers=2, visibility_timeout="1s"))
         .fault("12s", "3s", Fault.slowdown("db", 4))
         .variant("bulkhead", {"services[gateway].steps[0].bulkhead": Bulkhead(2)}))
    model = t.build()
    assert model.services == ["gateway", "db", "mailer", "worker"]
    assert model.topics == ["orders"] and model.queues == ["jobs"]
    assert (model.duration_s, model.warmup_s, model.seed) == (30.0, 2.0, 5)
    assert model.variant_edits("bulkhead") == {
        "services[gateway].steps[0].bulkhead": "(max_concurrent: 2)"}
    r = model.run()
    assert r.group("orders", "mailer").consumed > 0
    assert r.queue("jobs").acked > 0
    assert r.faults[0].label.startswith("slowdown db")
    assert model.variant("bulkhead").run().call("gateway", "db").bulkhead_rejections >= 0


def test_durations_must_say_their_unit():
    with pytest.raises(TypeError, match="mean_ms"):
        Exp(5)  # type: ignore[arg-type]
    assert Exp(dt.timedelta(microseconds=1500)).to_dict() == {"Exp": {"mean": "1500us"}}
    assert Exp(mean_ms=2.5).to_dict() == {"Exp": {"mean": "2.5ms"}}


def test_overrides_take_python_values_builders_and_command_line_text(topologies):
    model = microsim.load(topologies / "checkout.ron")
    step = "services[gateway].steps[1].branches[0].steps[0]"
    a = model.with_overrides({f"{step}.bulkhead": Bulkhead(8)})
    b = model.variant("bulkhead")
    assert a.to_dict()["services"] == b.to_dict()["services"]
    c = model.with_overrides([f"{step}.timeout=300ms"])
    assert c.to_dict()["services"] == model.variant("short-timeout").to_dict()["services"]
    d = model.with_overrides({f"{step}.on_failure": "Ignore", "services[payment].workers": 8})
    assert d.to_dict()["services"]["payment"]["workers"] == 8
    # The original is untouched: models are immutable.
    assert model.to_dict()["services"]["payment"]["workers"] == 4

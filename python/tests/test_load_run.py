"""Loading a topology, running it once, reading the report."""

import json
import math

import microsim


def test_mm1_one_run_matches_theory(topologies):
    # M/M/1 at ρ = 0.8: W = 1/(μ − λ) = 1/(1000/s − 800/s) = 5 ms; utilization 0.8.
    model = microsim.load(topologies / "mm1.ron")
    report = model.run(seed=1, duration="120s", warmup="10s")
    clients = report.entry("clients")
    # ~88,000 answers, but correlated: one run's mean is within ~10 % of W (the replication
    # tests below give the honest interval).
    assert abs(clients.latency.mean_ms - 5.0) < 0.75, clients.latency.mean_ms
    assert abs(report.service("server").utilization - 0.8) < 0.03
    # Every offered request is accounted for.
    outcomes = sum(clients.outcomes.values())
    assert clients.offered == outcomes + clients.in_flight


def test_to_dict_has_the_keys_of_the_json(topologies):
    report = microsim.load(topologies / "mm1.ron").run(duration="10s", warmup="1s")
    d = report.to_dict()
    j = json.loads(report.to_json())
    assert set(d) == set(j)
    assert set(d["entries"][0]) == set(j["entries"][0])
    assert d["entries"][0]["offered"] == j["entries"][0]["offered"]
    assert math.isclose(d["duration_s"], 10.0)

"""Replications, comparisons and sweeps, checked against queueing theory.

Seeds are fixed, so every result here is deterministic; the tolerances say how far from
theory a correct simulator may land for these sample sizes, not how lucky a seed was.
"""

import json
import math

import pytest

import microsim
from microsim import Entry, Exp, Poisson, Service, Topology


def mm1(rate: float = 800, duration: str = "30s") -> microsim.Model:
    """M/M/1 with service rate μ = 1000/s (exponential 1 ms work)."""
    return (Topology("mm1").duration(duration).warmup("2s")
            .entry(Entry.service("main", "s", Poisson(rate)))
            .service("s", Service(work=Exp(mean_ms=1)))
            .build())


def test_mm1_mean_sojourn_is_five_ms_within_the_interval():
    # ρ = 0.8: W = 1/(μ − λ) = 5 ms. The warm-up (2 s) is far beyond the queue's relaxation
    # time (about 1/(μ(1 − √ρ)²) ≈ 0.1 s), so there is no start-up bias to speak of.
    exp = mm1(800, "60s").run(reps=8)
    w = exp.metric("entries[main].latency.mean_ms")
    assert w.n == 8
    # The 95 % interval (Student t, 7 degrees of freedom) holds W; two half-widths is a
    # 1-in-200 miss, and the interval is narrow enough to tell 5 ms from 4.5 or 5.5.
    assert abs(w.mean - 5.0) < 2 * w.half_width, str(w)
    assert w.half_width < 0.5, str(w)
    assert w.ci_low < w.mean < w.ci_high
    # Utilization ρ = λ/μ = 0.8, with its own interval.
    u = exp.metric("services[s].utilization")
    assert abs(u.mean - 0.8) < max(2 * u.half_width, 0.005), str(u)
    # The per-replication values are what the estimate summarises.
    values = exp.values("entries[main].latency.mean_ms")
    assert len(values) == 8
    assert math.isclose(sum(values) / 8, w.mean, rel_tol=1e-12)


def test_availability_of_a_chain_is_the_product():
    # Five services in a chain, each failing 1 % of requests: 0.99⁵ = 0.95099.
    t = Topology("chain").duration("20s").entry("main", "a", Poisson(500))
    names = ["a", "b", "c", "d", "e"]
    for here, there in zip(names, names[1:] + [None]):
        s = Service(workers=8, work=Exp(mean_ms=1), errors=0.01)
        t = t.service(here, s.call(there) if there else s)
    model = t.build()
    assert math.isclose(model.analyze().entry("main").availability, 0.99 ** 5, rel_tol=1e-9)
    a = model.run(reps=6).metric("entries[main].availability")
    # 10,000 requests a run: the binomial s.e. of a run is 0.0022; the interval over 6
    # replications holds the product (3 half-widths: a miss far rarer than 1 in 1000).
    assert abs(a.mean - 0.95099) < 3 * a.half_width, str(a)
    assert a.half_width < 0.005


def test_paired_comparison_one_worker_against_two():
    # M/M/1 at ρ = 0.8 takes 5 ms; M/M/2 at ρ = 0.4 takes 1.19 ms (Erlang C): −3.81 ms.
    base = (Topology("pool").duration("20s").warmup("2s")
            .entry("main", "s", Poisson(800))
            .service("s", Service(work=Exp(mean_ms=1)))
            .variant("two-workers", {"services[s].workers": 2})
            .build())
    exp = microsim.compare(base, reps=6)
    assert exp.arms == ["base", "two-workers"]
    d = exp.comparison("entries[main].latency.mean_ms")
    assert d.arm == "two-workers" and d.baseline == "base"
    assert d.significant
    h = d.difference.half_width
    assert abs(d.difference.mean + 3.81) < 2 * h and h < 0.5, d
    # Common random numbers: pairing narrows the interval.
    assert h < d.unpaired_half_width
    assert math.isclose(d.arm_mean - d.baseline_mean, d.difference.mean, rel_tol=1e-9)


def test_compare_of_a_model_with_itself_finds_no_difference(topologies):
    model = microsim.load(topologies / "checkout.ron")
    exp = microsim.compare([model, model], reps=3, duration="20s")
    assert exp.arms == ["checkout", "checkout #2"]
    diffs = exp.comparisons
    assert diffs, "a comparison has rows"
    for d in diffs:
        # Same model, same seeds: the very same runs.
        assert d.difference.mean == 0 and d.difference.sd == 0, d
        assert not d.significant
        assert d.baseline_mean == d.arm_mean or (math.isnan(d.baseline_mean)
                                                 and math.isnan(d.arm_mean))
    df = exp.comparisons_df()
    assert (df["difference"] == 0).all()


def test_sweep_finds_the_knee_of_mm1():
    # W = 1/(μ − λ) passes 4 ms at λ = 750/s: it holds at 700 (3.3 ms), breaks at 800 (5 ms).
    exp = microsim.sweep(mm1(100, "20s"), {"workload[main].arrivals.per_second": range(500, 901, 100)},
                         reps=4, targets=["mean<=4ms"])
    assert exp.kind == "sweep"
    assert exp.axes == ["workload[main].arrivals.per_second"]
    assert exp.points == [(500,), (600,), (700,), (800,), (900,)]
    (knee,) = exp.knees
    assert (knee.target, knee.last_holds, knee.breaks_at) == ("mean<=4ms", 700, 800)
    # Every point against W = 1/(μ − λ), within 3 half-widths or 5 %.
    for lam in (500, 600, 700, 800):
        w = exp.metric("entries[main].latency.mean_ms", point=lam)
        theory = 1000 / (1000 - lam)
        assert abs(w.mean - theory) < max(3 * w.half_width, 0.05 * theory), (lam, str(w))


def test_sweep_accepts_command_line_ranges_and_grids():
    exp = microsim.sweep(mm1(100, "5s"), {"workload[main].arrivals.per_second": "100..300:100",
                                          "services[s].workers": [1, 2]}, reps=2)
    assert exp.points == [(100, 1), (200, 1), (300, 1), (100, 2), (200, 2), (300, 2)]
    df = exp.summary_df("entries[main].availability")
    assert len(df) == 6
    assert set(df["services[s].workers"]) == {1, 2}


def test_results_do_not_depend_on_the_number_of_threads():
    model = mm1(800, "5s")
    one = model.run(reps=4, threads=1)
    many = model.run(reps=4)
    assert one.to_json() == many.to_json()


def test_summary_df_has_the_documented_columns():
    exp = mm1(500, "5s").run(reps=3)
    df = exp.summary_df()
    assert list(df.columns) == ["arm", "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    assert set(df["metric"]) == set(exp.metrics)
    row = df[df["metric"] == "entries[main].latency.mean_ms"].iloc[0]
    e = exp.metric("entries[main].latency.mean_ms")
    assert (row["mean"], row["ci_low"], row["ci_high"]) == (e.mean, e.ci_low, e.ci_high)
    lat = exp.latency_df()
    assert list(lat.columns) == ["arm", "entry", "count", "mean_ms", "p50_ms", "p90_ms",
                                 "p95_ms", "p99_ms", "p999_ms", "max_ms"]
    runs = exp.runs_df("entries[main].availability")
    assert list(runs.columns) == ["arm", "rep", "seed", "metric", "value"]
    assert len(runs) == 3
    tl = exp.timeline_df()
    assert list(tl.columns) == ["arm", "entry", "t_s", "ok", "answered", "availability"]


def test_single_replication_has_no_interval():
    e = mm1(500, "5s").run(reps=1).metric("entries[main].latency.mean_ms")
    assert e.n == 1 and math.isnan(e.ci_low) and math.isnan(e.ci_high)


def test_experiment_json_and_csv():
    exp = mm1(500, "5s").run(reps=2)
    d = json.loads(exp.to_json())
    assert d["header"]["reps"] == 2 and d["header"]["arms"] == ["base"]
    assert set(exp.to_dict()) == set(d)
    assert exp.to_csv().splitlines()[0].startswith("arm")
    assert "replications" in exp.table()


def test_bad_arguments_are_refused():
    model = mm1(500, "5s")
    with pytest.raises(ValueError, match="reps"):
        model.run(reps=0)
    with pytest.raises(ValueError, match="two arms"):
        microsim.compare(model, reps=2)
    with pytest.raises(ValueError, match="METRIC"):
        microsim.sweep(model, {"services[s].workers": [1, 2]}, targets=["p99"], reps=1)
    with pytest.raises(microsim.TopologyError, match="wrokers"):
        microsim.sweep(model, {"services[s].wrokers": [1, 2]}, reps=1)


def test_sweep_values_may_be_numpy_and_durations():
    np = pytest.importorskip("numpy")
    model = (Topology("t").duration("5s").warmup("1s")
             .entry("main", "s", Poisson(200))
             .service("s", Service(workers=2, work=Exp(mean_ms=1)).call("db", timeout="1s"))
             .service("db", Service(workers=4, work=Exp(mean_ms=2))))
    exp = microsim.sweep(model.build(), {"services[db].workers": np.arange(1, 3),
                                         "services[s].steps[0].timeout": ["5ms", "1s"]},
                         reps=1)
    assert exp.points == [(1, "5ms"), (2, "5ms"), (1, "1s"), (2, "1s")]
    # A 5 ms timeout on a call whose service alone takes 2 ms on average times some out.
    tight = exp.metric("entries[main].outcomes.timeout", point=(1, "5ms")).mean
    loose = exp.metric("entries[main].outcomes.timeout", point=(1, "1s")).mean
    assert tight > 0 and loose == 0

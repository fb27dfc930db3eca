"""DataFrames have the documented columns and obey the invariants of the report; charts and
the HTML report display."""

import math

import pytest

import microsim

pd = pytest.importorskip("pandas")

ENTRY_COLUMNS = [
    "name", "service", "target", "offered", "outcomes_ok", "outcomes_error", "outcomes_timeout",
    "outcomes_rejected", "outcomes_circuit_open", "outcomes_unavailable", "outcomes_degraded",
    "in_flight", "availability", "availability_se", "throughput_per_s", "goodput_per_s",
    "latency_count", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms",
    "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "end_to_end_count",
    "end_to_end_mean_ms", "end_to_end_p50_ms", "end_to_end_p90_ms", "end_to_end_p95_ms",
    "end_to_end_p99_ms", "end_to_end_p999_ms", "end_to_end_max_ms", "analytic_availability",
]


@pytest.fixture(scope="module")
def checkout(request):
    from conftest import TOPOLOGIES
    return microsim.load(TOPOLOGIES / "checkout.ron").run(duration="90s")


def test_entries_df_has_the_documented_columns_and_adds_up(checkout):
    df = checkout.entries_df()
    assert list(df.columns) == ENTRY_COLUMNS
    row = df.iloc[0]
    outcomes = sum(row[c] for c in ENTRY_COLUMNS if c.startswith("outcomes_"))
    assert row["offered"] == outcomes + row["in_flight"]
    answered = row["offered"] - row["in_flight"]
    assert math.isclose(row["availability"],
                        (row["outcomes_ok"] + row["outcomes_degraded"]) / answered)


def test_services_calls_and_occupancy_frames(checkout):
    s = checkout.services_df()
    for col in ["name", "replicas", "workers", "utilization", "mean_busy_workers",
                "mean_in_system", "latency_mean_ms", "orphaned_work_s", "analytic_utilization"]:
        assert col in s.columns, col
    assert list(s["name"]) == ["gateway", "inventory", "payment"]
    occ = checkout.occupancy_df()
    # Who holds the workers adds up to the busy workers, service by service.
    for name, busy in zip(s["name"], s["mean_busy_workers"]):
        held = occ[occ["service"] == name]["workers"].sum()
        assert math.isclose(held, busy, rel_tol=1e-6, abs_tol=1e-9), name
    c = checkout.calls_df()
    assert list(c.columns[:3]) == ["from", "to", "step"]
    assert {"breaker_not_permitted", "breaker_open_s", "bulkhead_rejections"} <= set(c.columns)
    assert c["breaker_open_s"].isna().all()
    for _, r in c.iterrows():
        done = sum(r[k] for k in c.columns if k.startswith("outcomes_"))
        assert r["calls"] == done + r["in_flight"]


def test_littles_law_holds_in_the_frames_of_a_drained_run(topologies):
    # A drained run covers every request from arrival to end: L = λ W exactly (to rounding).
    r = microsim.load(topologies / "mm1.ron").run(duration="30s", warmup="0s", drain=True)
    s = r.services_df().iloc[0]
    lam = (s["arrivals"] - s["rejected"]) / (r.duration_s - r.warmup_s)
    assert math.isclose(s["mean_in_system"], lam * s["latency_mean_ms"] / 1000, rel_tol=1e-3)


def test_timeseries_frames(checkout):
    e = checkout.timeseries_df("entries")
    assert list(e.columns) == ["t_s", "entry", "ok", "error", "timeout", "rejected",
                               "circuit_open", "unavailable", "degraded", "answered",
                               "availability", "p99_ms"]
    assert list(e["t_s"][:3]) == [0.0, 1.0, 2.0]
    assert (e["answered"] == e[["ok", "error", "timeout", "rejected", "circuit_open",
                                "unavailable", "degraded"]].sum(axis=1)).all()
    ok = e["availability"].dropna()
    assert ((ok >= 0) & (ok <= 1)).all()
    s = checkout.timeseries_df("services")
    assert list(s.columns) == ["t_s", "service", "queue", "busy"]
    assert set(s["service"]) == {"gateway", "inventory", "payment"}
    assert list(checkout.timeseries_df("calls").columns) == ["t_s", "from", "to", "calls",
                                                            "attempts"]
    with pytest.raises(ValueError, match="entries"):
        checkout.timeseries_df("nope")


def test_broker_frames(topologies):
    r = microsim.load(topologies / "registration-events.ron").run(duration="30s")
    g = r.groups_df()
    assert list(g.columns[:2]) == ["topic", "service"]
    assert {"consumed", "lag", "max_lag", "drained_in_s", "latency_mean_ms"} <= set(g.columns)
    assert len(g) == sum(len(t.groups) for t in r.topics)
    t = r.topics_df()
    assert list(t.columns) == ["name", "partitions", "produced"]
    q = microsim.load(topologies / "m3.ron").run(duration="10s").queues_df()
    assert list(q.columns[:2]) == ["name", "service"]
    # sent = acked + dead_lettered + expired + depth + in_flight (whole run).
    for _, row in q.iterrows():
        assert row["sent"] == (row["acked"] + row["dead_lettered"] + row["expired"]
                               + row["depth"] + row["in_flight"])


def test_accessors_and_records(checkout):
    e = checkout.entry("shoppers")
    assert e.name == "shoppers" and e["name"] == "shoppers"
    assert e.latency.p99_ms >= e.latency.p50_ms
    call = checkout.call("gateway", "payment")
    assert call.step == "services[gateway].steps[1].branches[0].steps[0]"
    assert checkout.call_at(call.step).to == "payment"
    with pytest.raises(KeyError, match="gateway"):
        checkout.service("gatewya")
    with pytest.raises(AttributeError, match="availability"):
        e.availabilty  # noqa: B018
    with pytest.raises(AttributeError):
        e.name = "x"  # type: ignore[misc]
    assert e.to_dict()["name"] == "shoppers"


def test_charts_and_html(checkout, tmp_path):
    charts = checkout.charts
    names = [c.name for c in charts]
    assert names[0] == "topology"
    assert "timeline-shoppers" in names
    chart = checkout.chart("latency")
    assert chart.name == "latency-shoppers"
    assert chart._repr_svg_().lstrip().startswith("<svg")
    page = checkout.html()
    assert page.page.startswith("<!DOCTYPE html>")
    assert page._repr_html_().startswith("<iframe srcdoc=")
    assert "<pre" in checkout._repr_html_()
    out = checkout.save(tmp_path / "out")
    assert (out / "report.json").exists() and (out / "index.html").exists()
    assert (out / "topology.svg").read_text().lstrip().startswith("<svg")
    back = microsim.read_report(out / "report.json")
    assert back.to_json() == checkout.to_json()


def test_analysis_frames(topologies):
    a = microsim.load(topologies / "mm1.ron").analyze()
    s = a.services_df()
    assert {"name", "utilization", "queue_model_mean_sojourn_ms"} <= set(s.columns)
    row = s.iloc[0]
    # M/M/1 at ρ = 0.8: W = 5 ms, L = ρ/(1 − ρ) = 4.
    assert math.isclose(row["utilization"], 0.8, rel_tol=1e-9)
    assert math.isclose(row["queue_model_mean_sojourn_ms"], 5.0, rel_tol=1e-6)
    assert math.isclose(row["queue_model_mean_in_system"], 4.0, rel_tol=1e-6)
    assert "valid" in str(a)
    assert list(a.lints_df().columns) == ["level", "code", "path", "message"]

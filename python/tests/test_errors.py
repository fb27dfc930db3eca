"""Errors carry the messages the command line prints: file, line, field path, did-you-mean."""

import pytest

import microsim
from microsim import Exp, Poisson, Service, Topology

GOOD = """Topology(
    workload: [(name: "main", entry: "api", arrivals: Poisson(per_second: 10))],
    services: {
        "api": (workers: 2, work: Exp(mean: "1ms")),
    },
)
"""


def test_a_typo_in_a_file_names_file_line_field_and_suggestion(tmp_path):
    path = tmp_path / "shop.ron"
    path.write_text(GOOD.replace("workers: 2", "wrokers: 2"))
    with pytest.raises(microsim.TopologyError) as caught:
        microsim.load(path)
    e = caught.value
    assert isinstance(e, ValueError)
    message = str(e)
    # Line 4 of the file holds the misspelt field.
    assert f"{path}:4: services[api].wrokers: unknown field `wrokers`" in message
    assert "did you mean `workers`?" in message
    assert e.origin == str(path)
    assert e.problems[0]["line"] == 4
    assert e.problems[0]["path"] == "services[api].wrokers"


def test_every_problem_is_reported_at_once():
    text = GOOD.replace("workers: 2", "workers: 0").replace('"1ms"', '"1 parsec"')
    with pytest.raises(microsim.TopologyError) as caught:
        microsim.parse(text, "two.ron")
    paths = [p["path"] for p in caught.value.problems]
    assert "services[api].workers" in paths and "services[api].work.mean" in paths
    assert "2 problems found" in str(caught.value)


def test_a_syntax_error_names_line_and_column():
    with pytest.raises(microsim.TopologyError) as caught:
        microsim.parse(GOOD.replace('"api": (', '"api": ((', 1), "broken.ron")
    assert str(caught.value).startswith("broken.ron:")
    assert caught.value.problems[0]["line"] is not None


def test_the_builder_gets_the_files_message():
    shop = (Topology("shop").entry("users", "api", Poisson(10))
            .service("api", Service(work=Exp(mean_ms=1)).call("cache"))
            .service("cache", Service(workers=0)))
    with pytest.raises(microsim.TopologyError,
                       match=r"services\[cache\]\.workers: workers must be at least 1"):
        shop.build()


def test_a_dict_with_an_unknown_field_gets_did_you_mean():
    d = microsim.parse(GOOD).to_dict()
    d["services"]["api"]["worker"] = d["services"]["api"].pop("workers")
    with pytest.raises(microsim.TopologyError) as caught:
        microsim.from_dict(d)
    message = str(caught.value)
    assert "services[api].worker: unknown field `worker`; did you mean `workers`?" in message
    # The line points into the text from_dict loaded.
    line = caught.value.problems[0]["line"]
    assert "worker:" in microsim.dict_to_ron(d).splitlines()[line - 1]


def test_a_dict_of_the_wrong_shape_is_refused_with_its_path():
    with pytest.raises(microsim.TopologyError, match=r"services\[api\].*not a field name"):
        microsim.from_dict({"services": {"api": {"two words": 1}}})
    with pytest.raises(microsim.TopologyError, match="set"):
        microsim.from_dict({"services": {"api": {"workers": {1, 2}}}})


def test_overrides_are_checked_like_a_file():
    model = microsim.parse(GOOD)
    with pytest.raises(microsim.TopologyError, match="did you mean `workers`"):
        model.with_overrides({"services[api].wrokers": 3})
    with pytest.raises(microsim.TopologyError, match="workers must be at least 1"):
        model.with_overrides(["services[api].workers=0"])
    with pytest.raises(microsim.TopologyError, match="variant"):
        model.variant("nope")
    assert model.with_overrides({"services[api].workers": 3}).to_dict()["services"]["api"][
        "workers"] == 3


def test_an_overloaded_run_raises_run_error_naming_the_bottleneck():
    # ρ = 2 with an unbounded queue: work piles up until the in-flight cap stops the run.
    model = (Topology("overload").duration("60s").max_in_flight(1000)
             .entry("main", "slow", Poisson(2000))
             .service("slow", Service(work=Exp(mean_ms=1))).build())
    with pytest.raises(microsim.RunError, match="service `slow`") as caught:
        model.run()
    assert isinstance(caught.value, RuntimeError)


def test_bad_run_options():
    model = microsim.parse(GOOD)
    with pytest.raises(microsim.RunError, match="warm"):
        model.run(duration="1s", warmup="2s")
    with pytest.raises(ValueError, match="duration"):
        model.run(duration="ten seconds")
    with pytest.raises(TypeError):
        model.run(duration=True)

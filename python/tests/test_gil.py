"""Runs release the GIL: another Python thread makes progress while one is going.

How: a run of about a second goes on in a worker thread while the main thread counts loop
turns. If the run held the GIL, the main thread could not run a single bytecode until the
run ended; it would see the worker alive only at the very start. We measure over how much of
the run's wall time the main thread kept running: with the GIL released that is nearly all
of it. The machine may be busy (two cores, shared), so we ask only for half: a run that
held the GIL gives close to none.
"""

import threading
import time

import microsim
from microsim import Exp, Poisson, Service, Topology


def _model():
    # M/M/1 at 800/s for 40 simulated minutes: about 4 million events, about a second.
    return (Topology("long").duration("40m")
            .entry("main", "s", Poisson(800))
            .service("s", Service(work=Exp(mean_ms=1))).build())


def _progress_while(work):
    done = threading.Event()
    result = {}

    def target():
        started = time.perf_counter()
        result["value"] = work()
        result["wall"] = time.perf_counter() - started
        done.set()

    t = threading.Thread(target=target)
    t.start()
    first = last = None
    turns = 0
    while not done.is_set():
        now = time.perf_counter()
        first = now if first is None else first
        last = now
        turns += 1
    t.join()
    span = 0.0 if first is None else last - first
    return result, turns, span


def test_a_run_releases_the_gil():
    model = _model()
    result, turns, span = _progress_while(lambda: model.run(seed=1))
    assert result["value"].entry("main").offered > 1_000_000
    assert turns > 1000
    assert span > 0.5 * result["wall"], (span, result["wall"])


def test_an_experiment_releases_the_gil():
    model = _model()
    result, turns, span = _progress_while(lambda: model.run(reps=2, duration="20m"))
    assert result["value"].metric("entries[main].availability").n == 2
    assert span > 0.5 * result["wall"], (span, result["wall"])

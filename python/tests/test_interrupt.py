"""Ctrl-C (a Jupyter interrupt) stops an experiment between runs with KeyboardInterrupt."""

import signal
import subprocess
import sys
import time

import pytest

SCRIPT = r"""
import sys
import microsim
from microsim import Exp, Poisson, Service, Topology
model = (Topology("long").duration("40m").entry("main", "s", Poisson(800))
         .service("s", Service(work=Exp(mean_ms=1))).build())
print("started", flush=True)
try:
    model.run(reps=60)      # about a minute of work on two cores
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_an_interrupt_stops_an_experiment_between_runs():
    # The child gets SIGINT's default action whatever this process inherited: a shell
    # without job control starts background commands with SIGINT ignored, and a Python
    # started so keeps ignoring it (no KeyboardInterrupt at all).
    p = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.perf_counter()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    waited = time.perf_counter() - sent
    assert p.returncode == 3, (out, err)
    assert "interrupted" in out
    # Runs already going finish (about a second each); no new one starts. Sixty runs would
    # take a minute or more.
    assert waited < 20, waited

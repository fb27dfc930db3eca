"""microsim: a discrete-event simulator of microservice topologies, from Python.

Services with replicas, worker pools and queues, the synchronous calls between them with
timeouts, retries, circuit breakers and bulkheads, a broker with topics and work queues, and
faults — simulated on a virtual clock (hours of traffic in seconds), beside the analytic
shadow (availability products, utilization, M/M/c).

    >>> import microsim
    >>> model = microsim.load("topologies/mm1.ron")        # or parse(), from_dict(), Topology
    >>> report = model.run(seed=1, duration="60s")           # one run: a Report
    >>> report.entry("clients").latency.mean_ms              # ≈ 5 ms for M/M/1 at ρ = 0.8
    >>> exp = model.run(reps=10, duration="60s")             # replications: an Experiment
    >>> exp.metric("entries[clients].latency.mean_ms")       # mean with its 95 % interval

The distribution is ``microsim-des`` on PyPI (the name ``microsim`` there is another
project); the import name is ``microsim``. See ``python/README.md`` for the whole API.
"""

from ._api import (
    Analysis,
    Chart,
    Difference,
    Estimate,
    Experiment,
    Html,
    Knee,
    Model,
    Record,
    Report,
    RunError,
    TopologyError,
    compare,
    dict_to_ron,
    from_dict,
    load,
    parse,
    read_report,
    sweep,
)
from ._native import __version__
from .builder import (
    Backoff,
    Breaker,
    Budget,
    Bulkhead,
    Const,
    Constant,
    Deadlines,
    Empirical,
    Entry,
    Exp,
    Failures,
    Fault,
    Gamma,
    LogNormal,
    Poisson,
    Queue,
    Retry,
    Service,
    Steps,
    Subscriber,
    Topic,
    Topology,
    Uniform,
    WhenDown,
)

__all__ = [
    "Analysis", "Chart", "Difference", "Estimate", "Experiment", "Html", "Knee", "Model",
    "Record", "Report", "RunError", "TopologyError", "compare", "dict_to_ron", "from_dict",
    "load", "parse", "read_report", "sweep", "__version__",
    "Backoff", "Breaker", "Budget", "Bulkhead", "Const", "Constant", "Deadlines", "Empirical",
    "Entry", "Exp", "Failures", "Fault", "Gamma", "LogNormal", "Poisson", "Queue", "Retry",
    "Service", "Steps", "Subscriber", "Topic", "Topology", "Uniform", "WhenDown",
]

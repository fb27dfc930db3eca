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

from microsim._api import Analysis as Analysis
from microsim._api import Chart as Chart
from microsim._api import Difference as Difference
from microsim._api import Estimate as Estimate
from microsim._api import Experiment as Experiment
from microsim._api import Html as Html
from microsim._api import Knee as Knee
from microsim._api import Model as Model
from microsim._api import Record as Record
from microsim._api import Report as Report
from microsim._api import compare as compare
from microsim._api import dict_to_ron as dict_to_ron
from microsim._api import from_dict as from_dict
from microsim._api import load as load
from microsim._api import parse as parse
from microsim._api import read_report as read_report
from microsim._api import sweep as sweep
from microsim._native import RunError as RunError
from microsim._native import TopologyError as TopologyError
from microsim._native import __version__ as __version__
from microsim.builder import Backoff as Backoff
from microsim.builder import Breaker as Breaker
from microsim.builder import Budget as Budget
from microsim.builder import Bulkhead as Bulkhead
from microsim.builder import Const as Const
from microsim.builder import Constant as Constant
from microsim.builder import Deadlines as Deadlines
from microsim.builder import Empirical as Empirical
from microsim.builder import Entry as Entry
from microsim.builder import Exp as Exp
from microsim.builder import Failures as Failures
from microsim.builder import Fault as Fault
from microsim.builder import Gamma as Gamma
from microsim.builder import LogNormal as LogNormal
from microsim.builder import Poisson as Poisson
from microsim.builder import Queue as Queue
from microsim.builder import Retry as Retry
from microsim.builder import Service as Service
from microsim.builder import Steps as Steps
from microsim.builder import Subscriber as Subscriber
from microsim.builder import Topic as Topic
from microsim.builder import Topology as Topology
from microsim.builder import Uniform as Uniform
from microsim.builder import WhenDown as WhenDown

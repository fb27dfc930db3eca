"""Topologies written in Python: a builder for the same topology a file holds.

It mirrors the Rust builder (``microsim::builder``) name for name, with keyword arguments
where Rust chains setters::

    from microsim import Topology, Service, Exp, Poisson, Entry

    shop = (Topology("shop").duration("60s").warmup("5s")
            .entry(Entry.service("users", "api", Poisson(100)))
            .service("api", Service(workers=8, work=Exp(mean_ms=2)).call("db", timeout_ms=100))
            .service("db", Service(workers=4, work=Exp(mean_ms=5))))
    model = shop.build()

A builder only fills in the file's fields it is given and leaves the others out, so every
default is the file format's (``docs/format.md``). :meth:`Topology.build` hands the result
to the one loader (through :func:`microsim.from_dict`), so a bad value gets the message it
would get in a file, at its path (``services[api].workers: workers must be at least 1``).
Nothing is checked before then.

Durations are text with a unit (``"150ms"``, ``"2.5s"``) or a ``datetime.timedelta``;
arguments ending in ``_ms`` take milliseconds as a number. Every method returns a new
builder, so a builder can be reused as a base.
"""

from __future__ import annotations

import copy
import datetime as _dt
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _api

__all__ = [
    "Backoff", "Breaker", "Budget", "Bulkhead", "Const", "Constant", "Deadlines", "Dist",
    "Empirical", "Entry", "Exp", "Failures", "Fault", "Gamma", "LogNormal", "Poisson",
    "Queue", "Retry", "Service", "Steps", "Subscriber", "Topic", "Topology", "Uniform",
    "WhenDown",
]

Duration = Union[str, _dt.timedelta]
Number = Union[int, float]
_B = TypeVar("_B", bound="_Spec")
_S = TypeVar("_S", bound="_Steps")


def _num(v: Any, name: str) -> str:
    if isinstance(v, bool) or not hasattr(v, "__float__"):
        raise TypeError(f"{name}={v!r}: give a number")
    if hasattr(v, "__index__"):
        return str(int(v))
    return repr(float(v))


def _dur(value: Optional[Duration], value_ms: Optional[Number], name: str) -> Optional[str]:
    """A duration argument as the file writes it."""
    if value is not None and value_ms is not None:
        raise TypeError(f"give {name} or {name}_ms, not both")
    if value_ms is not None:
        return _num(value_ms, f"{name}_ms") + "ms"
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, _dt.timedelta):
        return _api._timedelta_text(value)
    raise TypeError(
        f"{name}={value!r}: give a duration as text with a unit ('150ms', '2s') or a "
        f"timedelta, or milliseconds as {name}_ms=…")


def _fields(**kw: Any) -> Dict[str, Any]:
    """The fields that were given (not ``None``), builders turned into dicts."""
    return {k: _plain(v) for k, v in kw.items() if v is not None}


def _plain(v: Any) -> Any:
    """``v`` with every builder in it turned into the dict it stands for."""
    if isinstance(v, _Spec):
        return v._spec()
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


class _Spec:
    """A part of a topology: holds what the file would hold."""

    def __init__(self) -> None:
        self._d: Dict[str, Any] = {}

    def _spec(self) -> Any:
        return copy.deepcopy(self._d)

    def to_dict(self) -> Any:
        """This part as the nested dicts of :func:`microsim.from_dict`."""
        return self._spec()

    def _with(self: _B, **fields: Any) -> _B:
        new = copy.deepcopy(self)
        new._d.update(_fields(**fields))
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._spec()!r})"


# -- distributions -----------------------------------------------------------------------


class Dist(_Spec):
    """A distribution of durations (service times, latencies, fallbacks)."""

    def __init__(self, spec: Dict[str, Any]):
        super().__init__()
        self._d = spec


class Exp(Dist):
    """Exponential with mean ``mean`` (or ``mean_ms``): memoryless service times, the M of
    M/M/c."""

    def __init__(self, mean: Optional[Duration] = None, *, mean_ms: Optional[Number] = None):
        super().__init__({"Exp": {"mean": _dur(mean, mean_ms, "mean")}})


class Const(Dist):
    """Always ``value`` (or ``ms`` milliseconds): the D of M/D/1."""

    def __init__(self, value: Optional[Duration] = None, *, ms: Optional[Number] = None):
        if value is not None and ms is not None:
            raise TypeError("give value or ms, not both")
        super().__init__({"Const": _dur(value, None, "value") if ms is None
                          else _num(ms, "ms") + "ms"})


class Uniform(Dist):
    """Uniform between ``min`` and ``max``."""

    def __init__(self, min: Optional[Duration] = None, max: Optional[Duration] = None, *,
                 min_ms: Optional[Number] = None, max_ms: Optional[Number] = None):
        super().__init__({"Uniform": {"min": _dur(min, min_ms, "min"),
                                      "max": _dur(max, max_ms, "max")}})


class LogNormal(Dist):
    """Log-normal, given by ``median`` and ``p99`` or by ``mean`` and ``cv`` (coefficient
    of variation): the long tail of real services."""

    def __init__(self, *, median: Optional[Duration] = None, p99: Optional[Duration] = None,
                 mean: Optional[Duration] = None, cv: Optional[Number] = None,
                 median_ms: Optional[Number] = None, p99_ms: Optional[Number] = None,
                 mean_ms: Optional[Number] = None):
        super().__init__({"LogNormal": _fields(
            median=_dur(median, median_ms, "median"), p99=_dur(p99, p99_ms, "p99"),
            mean=_dur(mean, mean_ms, "mean"), cv=cv)})


class Gamma(Dist):
    """Gamma with mean ``mean`` and coefficient of variation ``cv`` (cv 1 is
    exponential)."""

    def __init__(self, mean: Optional[Duration] = None, cv: Optional[Number] = None, *,
                 mean_ms: Optional[Number] = None):
        super().__init__({"Gamma": {"mean": _dur(mean, mean_ms, "mean"), "cv": cv}})


class Empirical(Dist):
    """Drawn uniformly from ``samples`` (durations), or ``ms`` (milliseconds)."""

    def __init__(self, samples: Optional[Iterable[Duration]] = None, *,
                 ms: Optional[Iterable[Number]] = None):
        if (samples is None) == (ms is None):
            raise TypeError("give samples or ms (one of them)")
        values = ([_dur(s, None, "samples") for s in samples] if samples is not None
                  else [_num(v, "ms") + "ms" for v in (ms or [])])
        super().__init__({"Empirical": values})


# -- workload ----------------------------------------------------------------------------


class Arrivals(_Spec):
    """An open-loop arrival process; ``step_at`` and ``ramp_to`` add a rate profile."""

    def __init__(self, kind: str, per_second: Number):
        super().__init__()
        self._kind = kind
        self._d = {"per_second": per_second, "profile": []}

    def _spec(self) -> Any:
        d = copy.deepcopy(self._d)
        if not d["profile"]:
            del d["profile"]
        return {self._kind: d}

    def step_at(self, at: Duration, per_second: Number) -> "Arrivals":
        """From ``at`` on (from the start of the run), the rate is ``per_second``."""
        new = copy.deepcopy(self)
        new._d["profile"].append({"at": _dur(at, None, "at"), "per_second": per_second})
        return new

    def ramp_to(self, at: Duration, per_second: Number) -> "Arrivals":
        """The rate moves linearly from the previous point's to ``per_second`` at ``at``."""
        new = copy.deepcopy(self)
        new._d["profile"].append({"at": _dur(at, None, "at"), "per_second": per_second,
                                  "ramp": True})
        return new


def Poisson(per_second: Number) -> Arrivals:
    """Poisson arrivals at ``per_second`` (exponential gaps): the M of M/M/c."""
    return Arrivals("Poisson", per_second)


def Constant(per_second: Number) -> Arrivals:
    """Evenly spaced arrivals at ``per_second``."""
    return Arrivals("Constant", per_second)


class Entry(_Spec):
    """An entry point: clients sending requests to a service, or publishing to a topic or
    sending to a queue. Make one with :meth:`service`, :meth:`publish` or :meth:`send`."""

    def __init__(self, name: str, arrivals: Arrivals, **target: str):
        super().__init__()
        self._d = {"name": name, **target, "arrivals": arrivals._spec()}

    @classmethod
    def service(cls, name: str, service: str, arrivals: Arrivals) -> "Entry":
        """Clients ``name`` sending requests to service ``service``."""
        return cls(name, arrivals, entry=service)

    @classmethod
    def publish(cls, name: str, topic: str, arrivals: Arrivals) -> "Entry":
        """Producers ``name`` publishing to topic ``topic``."""
        return cls(name, arrivals, publish=topic)

    @classmethod
    def send(cls, name: str, queue: str, arrivals: Arrivals) -> "Entry":
        """Producers ``name`` sending to work queue ``queue``."""
        return cls(name, arrivals, send=queue)

    def timeout(self, timeout: Optional[Duration] = None, *,
                timeout_ms: Optional[Number] = None) -> "Entry":
        """How long a client waits for its answer (default: forever)."""
        return self._with(timeout=_dur(timeout, timeout_ms, "timeout"))


# -- resilience policies -----------------------------------------------------------------


class Backoff:
    """Sleeps before retries."""

    @staticmethod
    def constant(d: Optional[Duration] = None, *, ms: Optional[Number] = None) -> Dict[str, Any]:
        """The same sleep before every retry."""
        return {"Constant": _dur(d, ms, "d")}

    @staticmethod
    def exponential(base: Optional[Duration] = None, max: Optional[Duration] = None, *,
                    multiplier: Optional[Number] = None, base_ms: Optional[Number] = None,
                    max_ms: Optional[Number] = None) -> Dict[str, Any]:
        """``base`` × ``multiplier``^(retry − 1) (multiplier 2 by default), at most ``max``."""
        return {"Exponential": _fields(base=_dur(base, base_ms, "base"),
                                       max=_dur(max, max_ms, "max"), multiplier=multiplier)}


class Budget:
    """Retry budgets: a cap on retries across calls, so that retries cannot storm."""

    @staticmethod
    def envoy(percent: Number, *, min_concurrency: Optional[int] = None) -> Dict[str, Any]:
        """Envoy's: retries in flight at most ``percent`` % of the requests in flight."""
        return {"Envoy": _fields(percent=percent, min_concurrency=min_concurrency)}

    @staticmethod
    def token_bucket(max_tokens: Number, token_ratio: Number) -> Dict[str, Any]:
        """gRPC's: a bucket of ``max_tokens``; a failure takes one, a success gives
        ``token_ratio`` back; retries only above half full."""
        return {"TokenBucket": {"max_tokens": max_tokens, "token_ratio": token_ratio}}


class Retry(_Spec):
    """Retries: ``attempts`` in all, the first call included.

    ``jitter``: ``"None"``, ``"Full"``, ``"Equal"``, ``"Decorrelated"``; ``on``: outcomes
    to retry (``["Error", "Timeout", "Rejected", "CircuitOpen", "Unavailable"]``);
    ``other_replica``: retry on another replica; ``budget``: :class:`Budget`."""

    def __init__(self, attempts: int, *, backoff: Optional[Dict[str, Any]] = None,
                 jitter: Optional[str] = None, on: Optional[Sequence[str]] = None,
                 other_replica: Optional[bool] = None,
                 budget: Optional[Dict[str, Any]] = None):
        super().__init__()
        self._d = _fields(attempts=attempts, backoff=backoff, jitter=jitter,
                          on=list(on) if on is not None else None,
                          other_replica=other_replica, budget=budget)


class Breaker(_Spec):
    """A circuit breaker per caller replica: opens when the failure rate (or the rate of
    calls slower than ``slow_call``) over its window reaches the threshold, refuses calls
    for ``open_for``, then lets ``half_open_calls`` through to test."""

    def __init__(self, *, failure_rate: Optional[Number] = None,
                 slow_call_rate: Optional[Number] = None,
                 slow_call: Optional[Duration] = None, slow_call_ms: Optional[Number] = None,
                 window_count: Optional[int] = None, window_time: Optional[Duration] = None,
                 min_calls: Optional[int] = None, open_for: Optional[Duration] = None,
                 open_for_ms: Optional[Number] = None, half_open_calls: Optional[int] = None,
                 automatic: Optional[bool] = None,
                 max_half_open: Optional[Duration] = None):
        super().__init__()
        if window_count is not None and window_time is not None:
            raise TypeError("give window_count or window_time, not both")
        window = ({"Count": window_count} if window_count is not None
                  else {"Time": _dur(window_time, None, "window_time")}
                  if window_time is not None else None)
        self._d = _fields(failure_rate=failure_rate, slow_call_rate=slow_call_rate,
                          slow_call=_dur(slow_call, slow_call_ms, "slow_call"), window=window,
                          min_calls=min_calls,
                          open_for=_dur(open_for, open_for_ms, "open_for"),
                          half_open_calls=half_open_calls, automatic=automatic,
                          max_half_open=_dur(max_half_open, None, "max_half_open"))


class Bulkhead(_Spec):
    """At most ``max_concurrent`` attempts in flight from one caller replica; one more waits
    up to ``max_wait`` (default: not at all) and is then rejected."""

    def __init__(self, max_concurrent: int, *, max_wait: Optional[Duration] = None,
                 max_wait_ms: Optional[Number] = None):
        super().__init__()
        self._d = _fields(max_concurrent=max_concurrent,
                          max_wait=_dur(max_wait, max_wait_ms, "max_wait"))


class Deadlines(_Spec):
    """Deadline propagation (the remaining time travels with each call) and cancellation
    (a caller that times out cancels its callee's request if it has not started)."""

    def __init__(self, *, propagate: Optional[bool] = None, cancel: Optional[bool] = None):
        super().__init__()
        self._d = _fields(propagate=propagate, cancel=cancel)


class WhenDown:
    """What a producer does while the broker cannot take its message."""

    @staticmethod
    def fail() -> str:
        """The step fails at once (``unavailable``)."""
        return "Fail"

    @staticmethod
    def wait(timeout: Optional[Duration] = None, *,
             timeout_ms: Optional[Number] = None) -> Dict[str, Any]:
        """The request waits for the broker, at most ``timeout`` (default: as long as it
        takes)."""
        return {"Wait": _fields(timeout=_dur(timeout, timeout_ms, "timeout"))}

    @staticmethod
    def buffer(limit: int) -> Dict[str, Any]:
        """The producer buffers up to ``limit`` messages and goes on."""
        return {"Buffer": {"limit": limit}}


class Failures(_Spec):
    """Failure and repair of each replica: exponential with means ``mttf`` and ``mttr``,
    or distributions ``failure`` and ``repair``."""

    def __init__(self, *, mttf: Optional[Duration] = None, mttr: Optional[Duration] = None,
                 failure: Optional[Dist] = None, repair: Optional[Dist] = None):
        super().__init__()
        self._d = _fields(mttf=_dur(mttf, None, "mttf"), mttr=_dur(mttr, None, "mttr"),
                          failure=failure, repair=repair)


# -- steps and services ------------------------------------------------------------------


def _call(to: str, timeout: Optional[Duration], timeout_ms: Optional[Number],
          latency: Optional[Dist], probability: Optional[Number], retry: Optional[Retry],
          breaker: Optional[Breaker], bulkhead: Optional[Bulkhead], fallback: Optional[Dist],
          ignore_failure: bool, deadlines: Optional[Deadlines]) -> Dict[str, Any]:
    if fallback is not None and ignore_failure:
        raise TypeError("give fallback or ignore_failure, not both")
    on_failure = ({"Fallback": _plain(fallback)} if fallback is not None
                  else "Ignore" if ignore_failure else None)
    return {"Call": _fields(to=to, timeout=_dur(timeout, timeout_ms, "timeout"),
                            latency=latency, probability=probability, on_failure=on_failure,
                            retry=retry, breaker=breaker, bulkhead=bulkhead,
                            deadlines=deadlines)}


class _Steps(_Spec):
    """The methods that add steps, shared by :class:`Service` and :class:`Steps`."""

    def _push(self: _S, step: Dict[str, Any]) -> _S:
        new = copy.deepcopy(self)
        new._d.setdefault("steps", []).append(step)
        return new

    def call(self: _S, to: str, *, timeout: Optional[Duration] = None,
             timeout_ms: Optional[Number] = None, latency: Optional[Dist] = None,
             probability: Optional[Number] = None, retry: Optional[Retry] = None,
             breaker: Optional[Breaker] = None, bulkhead: Optional[Bulkhead] = None,
             fallback: Optional[Dist] = None, ignore_failure: bool = False,
             deadlines: Optional[Deadlines] = None) -> _S:
        """Adds a sync call to service ``to``: the worker is held until the answer or the
        ``timeout`` (default: none). ``latency``: one-way network latency;
        ``probability``: that the call is made at all; ``fallback``: a failed call is
        answered after this local time and the request ends ``degraded``;
        ``ignore_failure``: a failed call is ignored."""
        return self._push(_call(to, timeout, timeout_ms, latency, probability, retry,
                                breaker, bulkhead, fallback, ignore_failure, deadlines))

    def publish(self: _S, topic: str, *, keys: Optional[int] = None,
                latency: Optional[Dist] = None, probability: Optional[Number] = None,
                when_down: Any = None) -> _S:
        """Adds a publish to topic ``topic``; the worker waits only for the broker's
        acknowledgement (``latency``). ``keys``: messages carry one of that many keys."""
        return self._push({"Publish": _fields(topic=topic, keys=keys, latency=latency,
                                              probability=probability, when_down=when_down)})

    def send(self: _S, queue: str, *, latency: Optional[Dist] = None,
             probability: Optional[Number] = None, when_down: Any = None) -> _S:
        """Adds a send to work queue ``queue`` (the file's ``Send`` step)."""
        return self._push({"Send": _fields(queue=queue, latency=latency,
                                           probability=probability, when_down=when_down)})

    def parallel(self: _S, *branches: "Steps", probability: Optional[Number] = None) -> _S:
        """Adds branches that run at the same time; the step ends when all have."""
        return self._push({"Parallel": _fields(
            branches=[b._spec().get("steps", []) for b in branches], probability=probability)})

    def choice(self: _S, *branches: Tuple[Number, "Steps"],
               probability: Optional[Number] = None) -> _S:
        """Adds a choice of exactly one branch, picked with probability proportional to its
        weight: ``choice((0.4, Steps().call("payment")), (0.6, Steps()))``."""
        return self._push({"Choice": _fields(
            branches=[{"weight": w, "steps": s._spec().get("steps", [])} for w, s in branches],
            probability=probability)})

    def step(self: _S, step: Mapping[str, Any]) -> _S:
        """Adds any step as :func:`microsim.from_dict` writes it."""
        return self._push(_plain(dict(step)))


class Steps(_Steps):
    """A list of steps: a branch of :meth:`Service.parallel` or :meth:`Service.choice`."""

    def work(self, d: Dist) -> "Steps":
        """Adds local work taking ``d``."""
        return self._push({"Work": d._spec()})


class Service(_Steps):
    """A service: ``replicas``, each with a pool of ``workers`` and a ``queue`` (default
    unbounded), doing its ``work`` (default none), failing with probability ``errors``,
    then running its steps (added with :meth:`call`, :meth:`publish` …).

    ``balancer``: ``"RoundRobin"`` (default), ``"Random"``, ``"LeastOutstanding"``,
    ``"PowerOfTwo"``; ``failures``: :class:`Failures`; ``nonblocking=N``: an event loop
    with at most N requests in flight, whose workers are held only for local work."""

    def __init__(self, *, replicas: Optional[int] = None, workers: Optional[int] = None,
                 queue: Optional[int] = None, work: Optional[Dist] = None,
                 errors: Optional[Number] = None, balancer: Optional[str] = None,
                 failures: Optional[Failures] = None, nonblocking: Optional[int] = None):
        super().__init__()
        self._d = _fields(replicas=replicas, workers=workers, queue=queue, work=work,
                          errors=errors, balancer=balancer, failures=failures,
                          nonblocking=None if nonblocking is None
                          else {"max_in_flight": nonblocking})

    def then_work(self, d: Dist) -> "Service":
        """Adds local work after the steps so far (``work=`` runs before every step)."""
        return self._push({"Work": d._spec()})


# -- broker ------------------------------------------------------------------------------


class Subscriber(_Spec):
    """The consumer group of service ``service`` on a topic.

    ``on_exhausted``: ``"DeadLetter"`` (default) or ``"Block"``; ``idempotent``: the
    window within which a redelivered message is recognised and skipped."""

    def __init__(self, service: str, *, consumers: Optional[int] = None,
                 session_timeout: Optional[Duration] = None,
                 max_attempts: Optional[int] = None,
                 retry_backoff: Optional[Duration] = None, on_exhausted: Optional[str] = None,
                 commit_interval: Optional[Duration] = None,
                 idempotent: Optional[Duration] = None):
        super().__init__()
        self._d = _fields(service=service, consumers=consumers,
                          session_timeout=_dur(session_timeout, None, "session_timeout"),
                          max_attempts=max_attempts,
                          retry_backoff=_dur(retry_backoff, None, "retry_backoff"),
                          on_exhausted=on_exhausted,
                          commit_interval=_dur(commit_interval, None, "commit_interval"),
                          idempotent=_dur(idempotent, None, "idempotent"))


class Topic(_Spec):
    """A topic of the broker: ``partitions``, ``retention``, consumer groups."""

    def __init__(self, *, partitions: Optional[int] = None,
                 retention: Optional[Duration] = None,
                 subscribers: Sequence[Subscriber] = ()):
        super().__init__()
        self._d = _fields(partitions=partitions, retention=_dur(retention, None, "retention"))
        if subscribers:
            self._d["subscribers"] = [s._spec() for s in subscribers]

    def subscriber(self, subscriber: Union[Subscriber, str], **kw: Any) -> "Topic":
        """Adds a consumer group: a :class:`Subscriber`, or a service name and its
        keyword arguments."""
        s = subscriber if isinstance(subscriber, Subscriber) else Subscriber(subscriber, **kw)
        new = copy.deepcopy(self)
        new._d.setdefault("subscribers", []).append(s._spec())
        return new


class Queue(_Spec):
    """A work queue of the broker consumed by service ``service`` (SQS-like: visibility
    timeout, redelivery, dead letters)."""

    def __init__(self, service: str, *, consumers: Optional[int] = None,
                 prefetch: Optional[int] = None,
                 visibility_timeout: Optional[Duration] = None,
                 max_receives: Optional[int] = None, retry_delay: Optional[Duration] = None,
                 retention: Optional[Duration] = None):
        super().__init__()
        self._d = _fields(service=service, consumers=consumers, prefetch=prefetch,
                          visibility_timeout=_dur(visibility_timeout, None,
                                                  "visibility_timeout"),
                          max_receives=max_receives,
                          retry_delay=_dur(retry_delay, None, "retry_delay"),
                          retention=_dur(retention, None, "retention"))


# -- faults ------------------------------------------------------------------------------


class Fault:
    """What goes wrong in a fault window (:meth:`Topology.fault`)."""

    @staticmethod
    def crash(service: str, replicas: Optional[int] = None) -> Dict[str, Any]:
        """Replicas of ``service`` crash (default: all): requests there are lost."""
        return {"Crash": _fields(service=service, replicas=replicas)}

    @staticmethod
    def hang(service: str, replicas: Optional[int] = None) -> Dict[str, Any]:
        """Replicas of ``service`` hang: they accept requests and never answer."""
        return {"Hang": _fields(service=service, replicas=replicas)}

    @staticmethod
    def slowdown(service: str, factor: Number, replicas: Optional[int] = None) -> Dict[str, Any]:
        """Work at ``service`` takes ``factor`` times as long."""
        return {"Slowdown": _fields(service=service, factor=factor, replicas=replicas)}

    @staticmethod
    def error_burst(service: str, errors: Number,
                    replicas: Optional[int] = None) -> Dict[str, Any]:
        """``service`` fails requests with probability ``errors``."""
        return {"ErrorBurst": _fields(service=service, errors=errors, replicas=replicas)}

    @staticmethod
    def partition(source: str, destination: str) -> Dict[str, Any]:
        """Calls from ``source`` to ``destination`` are lost (they time out)."""
        return {"Partition": {"from": source, "to": destination}}

    @staticmethod
    def latency(source: str, destination: str, add: Dist) -> Dict[str, Any]:
        """Calls from ``source`` to ``destination`` take ``add`` longer each way."""
        return {"Latency": {"from": source, "to": destination, "add": add._spec()}}

    @staticmethod
    def broker_down() -> str:
        """The broker takes no messages and delivers none."""
        return "BrokerDown"

    @staticmethod
    def leader_down(topic: str, partition: int) -> Dict[str, Any]:
        """One partition of ``topic`` has no leader."""
        return {"LeaderDown": {"topic": topic, "partition": partition}}

    @staticmethod
    def broker_slow(add: Dist) -> Dict[str, Any]:
        """Every acknowledgement of the broker takes ``add`` longer."""
        return {"BrokerSlow": {"add": add._spec()}}


# -- the topology ------------------------------------------------------------------------


class Topology(_Spec):
    """A whole topology (see the module docs). :meth:`build` checks it and returns a
    :class:`microsim.Model`."""

    def __init__(self, name: str):
        super().__init__()
        self._d = {"name": name}

    @property
    def name(self) -> str:
        """Its name."""
        return self._d["name"]

    def _run(self, **fields: Any) -> "Topology":
        new = copy.deepcopy(self)
        new._d.setdefault("run", {}).update(_fields(**fields))
        return new

    def duration(self, d: Union[Duration, Number]) -> "Topology":
        """Simulated time, warm-up included (default 60 s); a number is seconds."""
        return self._run(duration=_api._duration_text(d, "duration"))

    def warmup(self, d: Union[Duration, Number]) -> "Topology":
        """The initial span left out of the statistics (default none); a number is
        seconds."""
        return self._run(warmup=_api._duration_text(d, "warmup"))

    def seed(self, seed: int) -> "Topology":
        """The seed of every random stream (default 1)."""
        return self._run(seed=seed)

    def bucket(self, d: Duration) -> "Topology":
        """Width of the report's time-series buckets (default 1 s)."""
        return self._run(bucket=_dur(d, None, "bucket"))

    def max_in_flight(self, n: int) -> "Topology":
        """Cap on requests in flight at once (default 1,000,000)."""
        return self._run(max_in_flight=n)

    def max_events_per_instant(self, n: int) -> "Topology":
        """Most events at one virtual instant (default 10,000,000)."""
        return self._run(max_events_per_instant=n)

    def deadlines(self, d: Deadlines) -> "Topology":
        """Deadline propagation and cancellation for every call and entry point."""
        return self._with(deadlines=d)

    def entry(self, entry: Union[Entry, str], service: Optional[str] = None,
              arrivals: Optional[Arrivals] = None, *, timeout: Optional[Duration] = None,
              timeout_ms: Optional[Number] = None) -> "Topology":
        """Adds an entry point: an :class:`Entry`, or its name, the service the clients
        call and their arrivals (``.entry("users", "api", Poisson(100))``)."""
        if isinstance(entry, Entry):
            if service is not None or arrivals is not None:
                raise TypeError("give an Entry, or a name, a service and arrivals")
            e = entry
        else:
            if service is None or arrivals is None:
                raise TypeError(f"entry {entry!r} needs the service it calls and arrivals, "
                                "e.g. .entry('users', 'api', Poisson(100))")
            e = Entry.service(entry, service, arrivals)
        if timeout is not None or timeout_ms is not None:
            e = e.timeout(timeout, timeout_ms=timeout_ms)
        new = copy.deepcopy(self)
        new._d.setdefault("workload", []).append(e._spec())
        return new

    def _named(self, section: str, name: str, part: _Spec) -> "Topology":
        new = copy.deepcopy(self)
        new._d.setdefault(section, {})[name] = part._spec()
        return new

    def service(self, name: str, service: Service) -> "Topology":
        """Adds service ``name`` (a later one of the same name replaces it)."""
        return self._named("services", name, service)

    def topic(self, name: str, topic: Topic) -> "Topology":
        """Adds topic ``name`` to the broker."""
        return self._named("topics", name, topic)

    def queue(self, name: str, queue: Queue) -> "Topology":
        """Adds work queue ``name`` to the broker."""
        return self._named("queues", name, queue)

    def fault(self, at: Duration, lasts: Duration, what: Any) -> "Topology":
        """Adds a fault: ``what`` (a :class:`Fault`) goes wrong ``at`` (from the start of
        the run, warm-up included) and lasts ``lasts``."""
        new = copy.deepcopy(self)
        new._d.setdefault("faults", []).append(
            {"at": _dur(at, None, "at"), "lasts": _dur(lasts, None, "lasts"),
             "fault": _plain(what)})
        return new

    def variant(self, name: str, edits: Union[Mapping[str, Any], Iterable[str]]) -> "Topology":
        """Declares variant ``name``: edits ``{path: value}`` or ``["PATH=VALUE", …]`` as
        :meth:`microsim.Model.with_overrides` takes them (values may be builders:
        ``{"services[api].steps[0].bulkhead": Bulkhead(8)}``)."""
        if isinstance(edits, Mapping):
            pairs: Dict[str, Any] = {str(k): _plain(v) for k, v in edits.items()}
        else:
            if isinstance(edits, str):
                edits = [edits]
            pairs = {}
            for e in edits:
                if "=" not in e:
                    raise ValueError(f"variant {name!r}: {e!r} is not PATH=VALUE")
                p, v = e.split("=", 1)
                pairs[p.strip()] = v.strip()
        new = copy.deepcopy(self)
        new._d.setdefault("variants", {})[name] = pairs
        return new

    def to_ron(self) -> str:
        """The topology as RON text, as a file would say it."""
        return _api.dict_to_ron(self._spec())

    def build(self) -> "_api.Model":
        """Checks the topology with the file's loader and compiles it. Raises
        :class:`microsim.TopologyError` with every problem at its path."""
        return _api.from_dict(self._spec(), origin=f"{self.name} (built)")

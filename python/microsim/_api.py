"""Loading, running and reading results: the heart of the ``microsim`` package.

Everything here wraps the compiled module ``microsim._native`` (the Rust crate): a model is
loaded and checked by the crate's one loader, runs and experiments run in Rust with the GIL
released, and results are read from the crate's report types.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json as _json
import os as _os
import re as _re
from dataclasses import dataclass
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    overload,
)

from . import _native
from ._native import RunError, TopologyError

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = [
    "Analysis",
    "Chart",
    "Estimate",
    "Experiment",
    "Html",
    "Knee",
    "Difference",
    "Model",
    "Record",
    "Report",
    "RunError",
    "TopologyError",
    "compare",
    "dict_to_ron",
    "from_dict",
    "load",
    "parse",
    "read_report",
    "sweep",
]

#: A duration: text with a unit (``"150ms"``, ``"2.5s"``, ``"4m"``) or a ``timedelta``.
Duration = Union[str, _dt.timedelta]
#: A run's length or warm-up: a :data:`Duration`, or a number of seconds.
RunDuration = Union[str, _dt.timedelta, int, float]


def _duration_text(value: Optional[RunDuration], name: str) -> Optional[str]:
    """``value`` as text with a unit, for the Rust side (which checks it)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.timedelta):
        return _timedelta_text(value)
    if isinstance(value, bool):
        raise TypeError(f"{name}={value!r}: give a duration such as '60s'")
    if isinstance(value, (int, float)):
        return f"{value!r}s"
    raise TypeError(
        f"{name}={value!r}: give a duration as text with a unit ('60s', '500ms'), "
        "a datetime.timedelta, or a number of seconds"
    )


def _timedelta_text(td: _dt.timedelta) -> str:
    """A ``timedelta`` written exactly, in the largest unit that divides it."""
    us = td // _dt.timedelta(microseconds=1)
    if us < 0:
        raise ValueError(f"{td!r}: a duration cannot be negative")
    for size, unit in ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"),
                       (1_000_000, "s"), (1_000, "ms"), (1, "us")):
        if us % size == 0:
            return f"{us // size}{unit}" if us else "0ms"
    return f"{us}us"  # pragma: no cover


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def load(path: Union[str, "_os.PathLike[str]"]) -> "Model":
    """Reads, validates and compiles the topology file (RON) at ``path``.

    Raises :class:`TopologyError` with every problem at once, each at its line and field
    path, as ``microsim check`` prints them.
    """
    return Model(_native.load(_os.fspath(path)))


def parse(text: str, origin: str = "<string>") -> "Model":
    """Validates and compiles topology ``text`` (RON, as in a file); ``origin`` names it in
    messages."""
    return Model(_native.parse(text, origin))


def dict_to_ron(d: Mapping[str, Any]) -> str:
    """The topology ``d`` (nested dicts, the shape :meth:`Model.to_dict` returns) as RON
    text: what :func:`from_dict` loads. The line numbers of a :class:`TopologyError` raised
    by :func:`from_dict` point into this text."""
    return _native.topology_to_ron(d, "<dict>")


def from_dict(d: Mapping[str, Any], origin: str = "<dict>") -> "Model":
    """A model from nested dicts, checked by the same loader as a file.

    The dict has the file's sections (``run``, ``workload``, ``services``, ``topics``,
    ``queues``, ``faults``, ``deadlines``, ``variants``); a struct is a dict of its fields, an
    enum variant a dict with one capitalised key (``{"Exp": {"mean": "2ms"}}``,
    ``{"Const": "1ms"}``), or its name where the file names a variant without fields
    (``"balancer": "RoundRobin"``). A field set to ``None`` is left out and takes its
    default. ``Model.to_dict()`` returns this shape, so ``from_dict(m.to_dict())`` is ``m``.

    >>> m = from_dict({
    ...     "workload": [{"name": "main", "entry": "s",
    ...                   "arrivals": {"Poisson": {"per_second": 500}}}],
    ...     "services": {"s": {"work": {"Exp": {"mean": "1ms"}}}},
    ... })
    """
    return Model(_native.parse(_native.topology_to_ron(d, origin), origin))


def read_report(path_or_text: Union[str, "_os.PathLike[str]"]) -> "Report":
    """Reads a saved report back: a ``report.json`` file, or its text."""
    text = str(path_or_text)
    if not text.lstrip().startswith("{"):
        text = Path(path_or_text).read_text(encoding="utf-8")
    return Report(_native.report_from_json(text))


def _edit_list(overrides: Union[Mapping[str, Any], Iterable[str]]) -> List[Tuple[str, str]]:
    """``{"path": value}`` or ``["path=value", …]`` as (path, RON value) pairs."""
    from .builder import _plain

    if isinstance(overrides, Mapping):
        return [(str(p), _native.value_to_ron(_plain(v), str(p))) for p, v in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    pairs = []
    for text in overrides:
        if "=" not in text:
            raise ValueError(
                f"{text!r} is not PATH=VALUE; write e.g. "
                "'services[payment].steps[0].timeout=300ms', or give a dict"
            )
        path, value = text.split("=", 1)
        pairs.append((path.strip(), _native.value_to_ron(value.strip(), path.strip())))
    return pairs


# --------------------------------------------------------------------------------------
# Records: read-only views of the report's dicts
# --------------------------------------------------------------------------------------


class Record(Mapping[str, Any]):
    """A read-only view of one object of a report (an entry point, a service, a call …):
    its fields as attributes (``r.availability``) and as keys (``r["availability"]``).

    The fields are those of ``docs/report.md``; nested objects are records too
    (``r.latency.p99_ms``), lists of objects lists of records. :meth:`to_dict` gives a
    plain dict."""

    __slots__ = ("_d",)

    def __init__(self, d: Mapping[str, Any]):
        object.__setattr__(self, "_d", dict(d))

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._d[name])
        except KeyError:
            fields = ", ".join(self._d)
            raise AttributeError(f"no field {name!r}; the fields are: {fields}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("records of a report are read-only")

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._d[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __dir__(self) -> List[str]:
        return list(self._d) + ["to_dict"]

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a plain dict (a copy)."""
        return _json.loads(_json.dumps(self._d, allow_nan=True))

    def __repr__(self) -> str:
        def short(v: Any) -> str:
            if isinstance(v, dict):
                return "{…}"
            if isinstance(v, list):
                return f"[{len(v)} items]" if v else "[]"
            return repr(v)

        fields = ", ".join(f"{k}={short(v)}" for k, v in self._d.items())
        return f"Record({fields})"


def _wrap(v: Any) -> Any:
    if isinstance(v, dict):
        return Record(v)
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return [Record(x) for x in v]
    return v


def _find(items: List[Dict[str, Any]], what: str, label: str, **keys: str) -> Record:
    for item in items:
        if all(item.get(k) == v for k, v in keys.items()):
            return Record(item)
    known = ", ".join(
        " → ".join(str(item.get(k)) for k in keys) for item in items
    ) or "none"
    asked = " → ".join(keys.values())
    raise KeyError(f"no {what} {asked!r} in {label}; it has: {known}")


# --------------------------------------------------------------------------------------
# DataFrames
# --------------------------------------------------------------------------------------


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "DataFrames need pandas: `pip install pandas` (or `pip install microsim-des[pandas]`); "
            "without it, every result is also available as dicts (`.to_dict()`) and records"
        ) from None
    return pandas


#: Objects of a report that may be ``null``, and their scalar fields: a DataFrame has their
#: columns either way (NaN where the object is absent).
_NULLABLE = {
    "breaker": ("not_permitted", "transitions", "closed_s", "open_s", "half_open_s"),
    "queue_model": ("model", "mean_wait_ms", "mean_sojourn_ms", "mean_in_system", "p_reject"),
    "end_to_end": ("count", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms",
                   "max_ms"),
}


def _flat(d: Mapping[str, Any], prefix: str = "", out: Optional[Dict[str, Any]] = None,
          skip: Sequence[str] = ()) -> Dict[str, Any]:
    """Scalars of ``d``, nested dicts flattened with ``_`` (``latency_p99_ms``); lists and
    the fields in ``skip`` left out; an absent ``breaker``, ``queue_model`` or
    ``end_to_end`` as NaN columns."""
    out = {} if out is None else out
    for k, v in d.items():
        if k in skip:
            continue
        key = f"{prefix}{k}"
        if v is None and k in _NULLABLE:
            for sub in _NULLABLE[k]:
                out[f"{key}_{sub}"] = float("nan")
        elif isinstance(v, dict):
            _flat(v, key + "_", out, skip)
        elif isinstance(v, list):
            continue
        else:
            out[key] = v
    return out


#: Fields left out of the DataFrames: distributions and labels with their own accessors.
_SKIP = ("latency_cdf", "latency_histogram", "log", "publishers")


def _frame(rows: List[Dict[str, Any]], first: Sequence[str] = ()) -> "pandas.DataFrame":
    pd = _pandas()
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=list(first))
    cols = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    return df[cols]


# --------------------------------------------------------------------------------------
# Charts and HTML
# --------------------------------------------------------------------------------------


class Chart:
    """One SVG chart of a report (drawn by the Rust renderers): shown inline in Jupyter."""

    def __init__(self, file: str, title: str, svg: str):
        #: File name it is written under by ``microsim run --out`` (``timeline-main.svg``).
        self.file = file
        #: Its title.
        self.title = title
        #: The SVG document.
        self.svg = svg

    @property
    def name(self) -> str:
        """The file name without ``.svg``: what :meth:`Report.chart` looks up."""
        return self.file[:-4] if self.file.endswith(".svg") else self.file

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: Union[str, "_os.PathLike[str]"]) -> None:
        """Writes the SVG to ``path``."""
        Path(path).write_text(self.svg, encoding="utf-8")

    def __repr__(self) -> str:
        return f"Chart({self.name!r}, title={self.title!r})"


class Html:
    """A self-contained HTML page (the HTML report): shown in Jupyter in a frame of its own,
    so that its styles do not touch the notebook's."""

    def __init__(self, page: str, height: int = 800):
        #: The page.
        self.page = page
        #: Height of the frame in a notebook [px].
        self.height = height

    def _repr_html_(self) -> str:
        src = _html.escape(self.page, quote=True)
        return (f'<iframe srcdoc="{src}" style="width:100%;height:{self.height}px;'
                'border:1px solid #d9dee5" sandbox="allow-scripts"></iframe>')

    def save(self, path: Union[str, "_os.PathLike[str]"]) -> None:
        """Writes the page to ``path`` (e.g. ``index.html``)."""
        Path(path).write_text(self.page, encoding="utf-8")

    def __str__(self) -> str:
        return self.page


def _pre(text: str) -> str:
    return ('<pre style="font-size:12px;line-height:1.3;white-space:pre;overflow-x:auto">'
            f"{_html.escape(text)}</pre>")


# --------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------


class Analysis:
    """The analytic shadow of a model and its lints: closed-form predictions (availability
    products, traffic equations, utilization, M/M/c where it applies) computed from the
    model alone, without simulating. ``microsim check`` prints the same."""

    def __init__(self, d: Dict[str, Any], text: Optional[str] = None):
        self._d = d
        self._text = text

    def to_dict(self) -> Dict[str, Any]:
        """The analysis as nested dicts (the ``analysis`` keys of ``docs/report.md``)."""
        return _json.loads(_json.dumps(self._d, allow_nan=True))

    @property
    def entries(self) -> List[Record]:
        """Per entry point: ``name``, ``rate_per_s``, ``availability``, ``required``,
        ``max_amplification``."""
        return [Record(x) for x in self._d["entries"]]

    @property
    def services(self) -> List[Record]:
        """Per service: arrival rates, holding time, utilization ρ, availability,
        ``queue_model`` (M/M/c predictions where they hold exactly, else ``None``)."""
        return [Record(x) for x in self._d["services"]]

    @property
    def calls(self) -> List[Record]:
        """Per call step: attempts, availability with retries, expected attempts."""
        return [Record(x) for x in self._d["calls"]]

    @property
    def topics(self) -> List[Record]:
        """Per topic: rate and each consumer group's capacity and utilization."""
        return [Record(x) for x in self._d["topics"]]

    @property
    def queues(self) -> List[Record]:
        """Per work queue: rate, concurrency, capacity, utilization, sojourn."""
        return [Record(x) for x in self._d["queues"]]

    @property
    def lints(self) -> List[Record]:
        """Findings: ``level``, ``code`` (``saturated``, ``timeout-below-latency`` …),
        ``path``, ``message``."""
        return [Record(x) for x in self._d["lints"]]

    def entry(self, name: str) -> Record:
        """The predictions for entry point ``name``."""
        return _find(self._d["entries"], "entry point", "the analysis", name=name)

    def service(self, name: str) -> Record:
        """The predictions for service ``name``."""
        return _find(self._d["services"], "service", "the analysis", name=name)

    def entries_df(self) -> "pandas.DataFrame":
        """One row per entry point (``required`` left out)."""
        return _frame([_flat(e) for e in self._d["entries"]], ["name"])

    def services_df(self) -> "pandas.DataFrame":
        """One row per service, ``queue_model`` flattened (``queue_model_mean_sojourn_ms``)."""
        return _frame([_flat(s) for s in self._d["services"]], ["name"])

    def calls_df(self) -> "pandas.DataFrame":
        """One row per call step."""
        return _frame([_flat(c) for c in self._d["calls"]], ["from", "to"])

    def lints_df(self) -> "pandas.DataFrame":
        """One row per lint: ``level``, ``code``, ``path``, ``message``."""
        return _frame([_flat(x) for x in self._d["lints"]], ["level", "code", "path", "message"])

    def __str__(self) -> str:
        if self._text is not None:
            return self._text
        return _json.dumps(self._d, indent=2)

    def _repr_html_(self) -> str:
        return _pre(str(self))

    def __repr__(self) -> str:
        return (f"<Analysis: {len(self._d['entries'])} entry points, "
                f"{len(self._d['services'])} services, {len(self._d['lints'])} lints>")


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


class Report:
    """What one run measured, beside the analytic shadow (``docs/report.md``).

    Accessors return :class:`Record` views (``report.entry("main").availability``);
    ``*_df()`` methods return pandas DataFrames; :meth:`to_dict` the whole report as nested
    dicts. In Jupyter a report shows its terminal summary; :attr:`charts` and :meth:`html`
    hold its pictures."""

    def __init__(self, native: "_native.Report"):
        self._native = native
        self._d: Dict[str, Any] = native.to_dict()
        self._charts: Optional[List[Chart]] = None

    # -- whole ------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The report as nested dicts: the keys of ``report.json`` (``docs/report.md``), with
        numbers that are not finite as the floats ``inf`` and ``nan`` (JSON writes them as
        strings)."""
        return self._native.to_dict()

    def to_json(self) -> str:
        """The report as ``report.json`` holds it."""
        return self._native.to_json()

    def summary(self) -> str:
        """What ``microsim run`` prints: tables of entry points, services, calls, the
        broker, faults and a timeline, within 100 columns."""
        return self._native.summary()

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        es = ", ".join(f"{e['name']}: {e['availability']:.4f}" for e in self._d["entries"])
        return (f"<Report {self.topology!r} seed {self.seed}, {self.duration_s:g} s"
                f" (availability {es})>")

    def _repr_html_(self) -> str:
        return _pre(self.summary())

    # -- top-level fields ---------------------------------------------------------------

    @property
    def topology(self) -> str:
        """The topology's name."""
        return self._d["topology"]

    @property
    def seed(self) -> int:
        """The seed of the run."""
        return self._d["seed"]

    @property
    def duration_s(self) -> float:
        """Simulated time, warm-up included [s]."""
        return self._d["duration_s"]

    @property
    def warmup_s(self) -> float:
        """Warm-up excluded from the statistics [s]."""
        return self._d["warmup_s"]

    @property
    def events(self) -> int:
        """Events the simulator processed."""
        return self._d["events"]

    @property
    def entries(self) -> List[Record]:
        """One record per entry point, in file order."""
        return [Record(x) for x in self._d["entries"]]

    @property
    def services(self) -> List[Record]:
        """One record per service, in file order."""
        return [Record(x) for x in self._d["services"]]

    @property
    def calls(self) -> List[Record]:
        """One record per sync call step, in file order."""
        return [Record(x) for x in self._d["calls"]]

    @property
    def topics(self) -> List[Record]:
        """The broker's topics, each with its consumer ``groups``."""
        return [Record(x) for x in self._d["topics"]]

    @property
    def queues(self) -> List[Record]:
        """The broker's work queues."""
        return [Record(x) for x in self._d["queues"]]

    @property
    def publishes(self) -> List[Record]:
        """What became of the messages of each publish and send step."""
        return [Record(x) for x in self._d["publishes"]]

    @property
    def faults(self) -> List[Record]:
        """The fault timeline: ``label``, ``start_s``, ``end_s``."""
        return [Record(x) for x in self._d["faults"]]

    @property
    def analysis(self) -> Analysis:
        """The analytic shadow and lints of the model that ran."""
        return Analysis(self._d["analysis"])

    # -- accessors (as microsim::Report's) ----------------------------------------------

    def entry(self, name: str) -> Record:
        """The entry point called ``name``."""
        return _find(self._d["entries"], "entry point", "the report", name=name)

    def service(self, name: str) -> Record:
        """The service called ``name``."""
        return _find(self._d["services"], "service", "the report", name=name)

    def call(self, caller: str, callee: str) -> Record:
        """The first sync call step from service ``caller`` to service ``callee``, in file
        order (see :meth:`call_at` for one of several)."""
        return _find(self._d["calls"], "call", "the report", **{"from": caller, "to": callee})

    def call_at(self, step: str) -> Record:
        """The sync call step at ``step``, its path in the file
        (``services[gateway].steps[1].branches[0].steps[0]``)."""
        return _find(self._d["calls"], "call step", "the report", step=step)

    def topic(self, name: str) -> Record:
        """The topic called ``name``."""
        return _find(self._d["topics"], "topic", "the report", name=name)

    def group(self, topic: str, service: str) -> Record:
        """The consumer group of service ``service`` on topic ``topic``."""
        t = self.topic(topic)
        return _find(t.to_dict()["groups"], "consumer group", f"topic {topic!r}", service=service)

    def queue(self, name: str) -> Record:
        """The work queue called ``name``."""
        return _find(self._d["queues"], "work queue", "the report", name=name)

    def publish(self, source: str, destination: str) -> Record:
        """The first publish or send step from service ``source`` to topic or queue
        ``destination``."""
        return _find(self._d["publishes"], "publish step", "the report",
                     **{"from": source, "to": destination})

    # -- DataFrames ---------------------------------------------------------------------

    def entries_df(self) -> "pandas.DataFrame":
        """One row per entry point: ``name``, ``service``, ``target``, ``offered``,
        ``outcomes_ok`` … ``outcomes_degraded``, ``in_flight``, ``availability``,
        ``availability_se``, ``throughput_per_s``, ``goodput_per_s``, ``latency_count``,
        ``latency_mean_ms``, ``latency_p50_ms`` … ``latency_max_ms``,
        ``end_to_end_count`` … ``end_to_end_max_ms`` (a customer's time through a network of
        work queues; NaN for entry points that call a service), and
        ``analytic_availability`` (the analytic shadow's)."""
        analytic = {e["name"]: e["availability"] for e in self._d["analysis"]["entries"]}
        rows = []
        for e in self._d["entries"]:
            row = _flat(e, skip=_SKIP)
            row["analytic_availability"] = analytic.get(e["name"], float("nan"))
            rows.append(row)
        return _frame(rows, ["name"])

    def services_df(self) -> "pandas.DataFrame":
        """One row per service: ``name``, ``replicas``, ``workers``, ``arrivals``,
        ``rejected``, ``unavailable``, ``expired``, ``cancelled``, ``time_availability``,
        ``replica_availability``, ``outcomes_*``, ``utilization``, ``mean_busy_workers``,
        ``mean_queue``, ``max_queue``, ``mean_in_system``, ``latency_*``, ``orphaned``,
        ``orphaned_work_s``, and ``analytic_utilization`` (ρ of the traffic equations)."""
        analytic = {s["name"]: s["utilization"] for s in self._d["analysis"]["services"]}
        rows = []
        for s in self._d["services"]:
            row = _flat(s, skip=_SKIP)
            row["analytic_utilization"] = analytic.get(s["name"], float("nan"))
            rows.append(row)
        return _frame(rows, ["name"])

    def occupancy_df(self) -> "pandas.DataFrame":
        """Who holds the workers: one row per service and state (``working``, ``backoff``,
        ``fan-out``, ``waiting on X``) with the time-averaged ``workers``."""
        rows = [{"service": s["name"], "state": o["state"], "workers": o["workers"]}
                for s in self._d["services"] for o in s["occupancy"]]
        return _frame(rows, ["service", "state", "workers"])

    def calls_df(self) -> "pandas.DataFrame":
        """One row per sync call step: ``from``, ``to``, ``step``, ``calls``, ``in_flight``,
        ``attempts``, ``amplification``, ``retries``, ``retries_denied``, ``outcomes_*``,
        ``latency_*``, ``bulkhead_rejections``, and ``breaker_*`` (``not_permitted``,
        ``transitions``, ``closed_s``, ``open_s``, ``half_open_s``; NaN without a breaker)."""
        return _frame([_flat(c, skip=_SKIP) for c in self._d["calls"]], ["from", "to", "step"])

    def groups_df(self) -> "pandas.DataFrame":
        """One row per consumer group: ``topic``, ``service``, ``consumers``, ``consumed``,
        ``failed``, ``retries``, ``dead_lettered``, ``lag``, ``max_lag``, ``drained_in_s``,
        ``time_lag_s``, ``max_time_lag_s``, ``expired``, ``redelivered``, ``duplicates``,
        ``skipped``, ``latency_*`` (per-partition lists left out)."""
        rows = []
        for t in self._d["topics"]:
            for g in t["groups"]:
                row = {"topic": t["name"]}
                rows.append(_flat(g, out=row, skip=_SKIP))
        return _frame(rows, ["topic", "service"])

    def topics_df(self) -> "pandas.DataFrame":
        """One row per topic: ``name``, ``partitions``, ``produced``."""
        return _frame([_flat(t, skip=_SKIP) for t in self._d["topics"]], ["name"])

    def queues_df(self) -> "pandas.DataFrame":
        """One row per work queue: ``name``, ``service``, ``consumers``, ``prefetch``,
        ``sent``, ``acked``, ``failed``, ``redelivered``, ``duplicates``, ``dead_lettered``,
        ``expired``, ``depth``, ``in_flight``, ``max_depth``, ``drained_in_s``, ``age_s``,
        ``max_age_s``, ``latency_*``."""
        return _frame([_flat(q, skip=_SKIP) for q in self._d["queues"]], ["name", "service"])

    def latency_cdf_df(self) -> "pandas.DataFrame":
        """Each entry point's latency distribution: ``entry``, ``latency_ms``, ``fraction``
        (32 quantiles from 0.001 to 0.99999, then the maximum)."""
        rows = [{"entry": e["name"], "latency_ms": ms, "fraction": f}
                for e in self._d["entries"] for ms, f in e["latency_cdf"]]
        return _frame(rows, ["entry", "latency_ms", "fraction"])

    def timeseries_df(self, kind: str = "entries") -> "pandas.DataFrame":
        """The time series, one row per bucket and element, ``t_s`` the bucket's start.

        ``kind``:
          * ``"entries"``: ``entry``, answers by outcome (``ok``, ``error``, ``timeout``,
            ``rejected``, ``circuit_open``, ``unavailable``, ``degraded``), ``answered``,
            ``availability`` ((ok + degraded) / answered; NaN without answers), ``p99_ms``;
          * ``"services"``: ``service``, ``queue`` and ``busy`` (time-averaged);
          * ``"calls"``: ``from``, ``to``, ``calls``, ``attempts``;
          * ``"topics"``: ``topic``, ``service`` (the group), ``lag``, ``time_lag_s``;
          * ``"queues"``: ``queue``, ``depth``, ``age_s``.
        """
        series = self._d["series"]
        width = series["bucket_s"]
        rows: List[Dict[str, Any]] = []
        if kind == "entries":
            outcomes = ["ok", "error", "timeout", "rejected", "circuit_open", "unavailable",
                        "degraded"]
            for e in series["entries"]:
                for b in range(len(e["ok"])):
                    row: Dict[str, Any] = {"t_s": b * width, "entry": e["name"]}
                    for o in outcomes:
                        row[o] = e[o][b]
                    answered = sum(row[o] for o in outcomes)
                    row["answered"] = answered
                    row["availability"] = ((row["ok"] + row["degraded"]) / answered
                                           if answered else float("nan"))
                    p99 = e["p99_ms"][b]
                    row["p99_ms"] = float("nan") if p99 is None else p99
                    rows.append(row)
            first = ["t_s", "entry"]
        elif kind == "services":
            for s in series["services"]:
                for b in range(len(s["queue"])):
                    rows.append({"t_s": b * width, "service": s["name"],
                                 "queue": s["queue"][b], "busy": s["busy"][b]})
            first = ["t_s", "service"]
        elif kind == "calls":
            for c in series["calls"]:
                for b in range(len(c["calls"])):
                    rows.append({"t_s": b * width, "from": c["from"], "to": c["to"],
                                 "calls": c["calls"][b], "attempts": c["attempts"][b]})
            first = ["t_s", "from", "to"]
        elif kind == "topics":
            for t in series["topics"]:
                for b in range(len(t["lag"])):
                    rows.append({"t_s": b * width, "topic": t["topic"], "service": t["service"],
                                 "lag": t["lag"][b], "time_lag_s": t["time_lag_s"][b]})
            first = ["t_s", "topic", "service"]
        elif kind == "queues":
            for q in series["queues"]:
                for b in range(len(q["depth"])):
                    rows.append({"t_s": b * width, "queue": q["name"],
                                 "depth": q["depth"][b], "age_s": q["age_s"][b]})
            first = ["t_s", "queue"]
        else:
            raise ValueError(
                f"kind={kind!r}: give 'entries', 'services', 'calls', 'topics' or 'queues'")
        return _frame(rows, first)

    # -- pictures -----------------------------------------------------------------------

    @property
    def charts(self) -> List[Chart]:
        """Every chart that applies, in the order of the HTML report: the topology diagram,
        per entry point the timeline, latency and availability, per service the threads,
        then retries, breakers and the broker. Each shows inline in Jupyter."""
        if self._charts is None:
            self._charts = [Chart(f, t, s) for f, t, s in self._native.charts()]
        return list(self._charts)

    def chart(self, name: str) -> Chart:
        """The chart whose file name (without ``.svg``) is ``name``, or the first that
        starts with it: ``report.chart("topology")`` (the diagram), ``report.chart("timeline")``,
        ``report.chart("latency-main")``."""
        charts = self.charts
        for c in charts:
            if c.name == name:
                return c
        for c in charts:
            if c.name.startswith(name):
                return c
        raise KeyError(f"no chart {name!r}; the charts are: {', '.join(c.name for c in charts)}")

    def html(self) -> Html:
        """The self-contained HTML report (``index.html`` of ``microsim run --out``)."""
        return Html(self._native.html())

    def save(self, directory: Union[str, "_os.PathLike[str]"]) -> Path:
        """Writes ``report.json``, every chart and ``index.html`` to ``directory`` (created
        if need be), as ``microsim run --out`` does; returns the directory."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(self.to_json(), encoding="utf-8")
        for c in self.charts:
            c.save(out / c.file)
        self.html().save(out / "index.html")
        return out


# --------------------------------------------------------------------------------------
# Experiments
# --------------------------------------------------------------------------------------


def _ron_scalar(text: str) -> Any:
    """A sweep value's RON text as Python: numbers as numbers, strings unquoted."""
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        pass
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return _json.loads(t)
    return t


@dataclass(frozen=True)
class Estimate:
    """A metric over replications: the mean with its 95 % Student-t confidence interval
    (``ci_low``, ``ci_high``: NaN with fewer than two replications)."""

    #: The metric's name (``entries[main].latency.mean_ms``).
    name: str
    #: Replications with a value.
    n: int
    #: Mean over them.
    mean: float
    #: Standard deviation over them.
    sd: float
    #: Lower end of the 95 % interval of the mean.
    ci_low: float
    #: Upper end of the 95 % interval of the mean.
    ci_high: float

    @property
    def half_width(self) -> float:
        """Half the width of the interval."""
        return (self.ci_high - self.ci_low) / 2

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the interval."""
        return self.ci_low <= value <= self.ci_high

    @classmethod
    def _of(cls, m: Mapping[str, Any]) -> "Estimate":
        ci = m.get("ci") or [float("nan"), float("nan")]
        return cls(m["name"], m["n"], m["mean"], m["sd"], ci[0], ci[1])

    def __str__(self) -> str:
        if self.ci_low == self.ci_low:  # not NaN
            return f"{self.mean:.6g} ± {self.half_width:.2g} (95 %, n = {self.n})"
        return f"{self.mean:.6g} (n = {self.n})"


@dataclass(frozen=True)
class Difference:
    """One metric of a paired comparison: an arm against the baseline, replication by
    replication with the same seeds."""

    #: The metric.
    metric: str
    #: The baseline arm.
    baseline: str
    #: The arm compared with it.
    arm: str
    #: The sweep point (values in axis order; empty without a sweep).
    point: Tuple[Any, ...]
    #: The metric's mean in the baseline.
    baseline_mean: float
    #: Its mean in the arm.
    arm_mean: float
    #: arm − baseline with its paired 95 % interval.
    difference: Estimate
    #: Half-width the same runs would give unpaired (Welch): what pairing bought.
    unpaired_half_width: float
    #: Whether the paired interval excludes 0.
    significant: bool
    #: One plain sentence.
    verdict: str


@dataclass(frozen=True)
class Knee:
    """Where a sweep's target first breaks along the first axis."""

    #: The target as written (``p99<=200ms``).
    target: str
    #: The arm.
    arm: str
    #: The values of the other axes.
    fixed: Tuple[Any, ...]
    #: The first value where the target does not hold; ``None`` when it holds everywhere.
    breaks_at: Any
    #: The value before it, where it last held; ``None`` when it breaks at the first.
    last_holds: Any


def _glob(pattern: str) -> "_re.Pattern[str]":
    return _re.compile("^" + ".*".join(_re.escape(p) for p in pattern.split("*")) + "$")


class Experiment:
    """The result of replications, a comparison or a sweep: every arm at every sweep point
    over its replications, with 95 % intervals **across replications** (honest where one
    run's binomial standard error is not), pooled latency, paired comparisons and knees.

    In Jupyter it shows the table the command line prints."""

    def __init__(self, native: "_native.Experiment", kind: str):
        self._native = native
        #: ``"replications"``, ``"comparison"`` or ``"sweep"``: which table it prints.
        self.kind = kind
        self._d: Dict[str, Any] = native.to_dict()

    # -- whole ------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The result as nested dicts: the keys of ``result.json`` (``header``, ``cells``,
        ``comparisons``, ``knees``), numbers that are not finite as floats."""
        return self._native.to_dict()

    def to_json(self) -> str:
        """The result as ``result.json`` holds it."""
        return self._native.to_json()

    def to_csv(self) -> str:
        """The result as CSV, as ``--csv`` writes it."""
        return self._native.csv()

    def table(self) -> str:
        """What the command line prints for this experiment (within 100 columns)."""
        if self.kind == "comparison":
            return self._native.comparison_text()
        if self.kind == "sweep":
            return self._native.sweep_text()
        return self._native.replications_text()

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        return _pre(self.table())

    def __repr__(self) -> str:
        h = self._d["header"]
        return (f"<Experiment {self.kind} of {h['topology']!r}: arms {h['arms']}, "
                f"{len(self.points)} point(s), {h['reps']} replications>")

    # -- shape --------------------------------------------------------------------------

    @property
    def arms(self) -> List[str]:
        """The arms, the baseline first."""
        return list(self._d["header"]["arms"])

    @property
    def axes(self) -> List[str]:
        """The paths of the sweep axes (empty without a sweep)."""
        return [a["path"] for a in self._d["header"]["axes"]]

    @property
    def reps(self) -> int:
        """Replications per arm and point."""
        return self._d["header"]["reps"]

    @property
    def master_seed(self) -> int:
        """The seed the replications' seeds derive from."""
        return self._d["header"]["master_seed"]

    @property
    def points(self) -> List[Tuple[Any, ...]]:
        """The sweep points, the first axis varying fastest (one empty point without a
        sweep)."""
        seen: List[Tuple[Any, ...]] = []
        for c in self._d["cells"]:
            p = tuple(_ron_scalar(v) for v in c["point"])
            if p not in seen:
                seen.append(p)
        return seen

    @property
    def metrics(self) -> List[str]:
        """The names of every metric estimated (``entries[main].availability`` …)."""
        return [m["name"] for m in self._d["cells"][0]["metrics"]] if self._d["cells"] else []

    def _cell(self, arm: Optional[str], point: Any) -> Dict[str, Any]:
        arm = self.arms[0] if arm is None else arm
        if arm not in self.arms:
            raise KeyError(f"no arm {arm!r}; the arms are: {', '.join(self.arms)}")
        cells = [c for c in self._d["cells"] if c["arm"] == arm]
        if point is None:
            if len(cells) > 1:
                raise ValueError(
                    f"this sweep has {len(cells)} points; say which with point=… "
                    f"(one of {self.points})")
            return cells[0]
        want = point if isinstance(point, tuple) else (point,)
        for c in cells:
            values = tuple(_ron_scalar(v) for v in c["point"])
            if values == want or tuple(c["point"]) == want:
                return c
        raise KeyError(f"no point {point!r}; the points are: {self.points}")

    # -- figures ------------------------------------------------------------------------

    def metric(self, name: str, arm: Optional[str] = None, point: Any = None) -> Estimate:
        """Metric ``name`` over the replications of ``arm`` (default: the first) at sweep
        ``point`` (a value of the axis, or a tuple with one per axis; needed only in a
        sweep). Names are those of :attr:`metrics`: every number of a report by its path
        (``entries[main].availability``, ``services[db].utilization``,
        ``calls[api → db].retries``), and ``total.retries``, ``total.orphaned_work_s``,
        ``total.worker_seconds``."""
        c = self._cell(arm, point)
        for m in c["metrics"]:
            if m["name"] == name:
                return Estimate._of(m)
        close = [m["name"] for m in c["metrics"] if name.split(".")[-1] in m["name"]][:8]
        hint = f"; e.g. {', '.join(close)}" if close else ""
        raise KeyError(f"no metric {name!r}{hint} (all names: .metrics)")

    def values(self, name: str, arm: Optional[str] = None, point: Any = None) -> List[float]:
        """Metric ``name`` in each replication, in replication order (NaN where a run has
        none)."""
        c = self._cell(arm, point)
        names = [m["name"] for m in c["metrics"]]
        if name not in names:
            raise KeyError(f"no metric {name!r} (all names: .metrics)")
        i = names.index(name)
        return [float("nan") if r["error"] or i >= len(r["values"]) else r["values"][i]
                for r in c["runs"]]

    def pooled(self, entry: str, arm: Optional[str] = None, point: Any = None) -> Record:
        """Latency of entry point ``entry`` over all the replications together: ``count``,
        ``mean_ms``, ``p50_ms`` … ``p999_ms``, ``max_ms`` (from the merged histograms)."""
        c = self._cell(arm, point)
        for lat in c["latency"]:
            if lat["entry"] == entry:
                return Record(lat["summary"])
        raise KeyError(f"no entry point {entry!r}")

    def comparison(self, metric: str, arm: Optional[str] = None,
                   point: Any = None) -> Difference:
        """``arm`` (default: the second) against the baseline for ``metric`` (one of the
        headline metrics: availability, latency mean/p50/p99 and failed outcomes of each
        entry point, lag and drain of the broker, retries, the totals)."""
        arm = self.arms[1] if arm is None and len(self.arms) > 1 else arm
        for d in self._differences():
            if d.metric == metric and d.arm == arm and (
                    point is None or d.point == (point if isinstance(point, tuple) else (point,))):
                return d
        raise KeyError(f"no comparison of {metric!r} for arm {arm!r}"
                       + ("" if point is None else f" at {point!r}"))

    def _differences(self) -> List[Difference]:
        out = []
        for cmp in self._d["comparisons"]:
            point = tuple(_ron_scalar(v) for v in cmp["point"])
            for r in cmp["rows"]:
                uh = r["unpaired_half_width"]
                out.append(Difference(
                    metric=r["metric"], baseline=cmp["baseline"], arm=cmp["arm"], point=point,
                    baseline_mean=r["baseline"], arm_mean=r["arm"],
                    difference=Estimate._of(r["difference"]),
                    unpaired_half_width=float("nan") if uh is None else uh,
                    significant=r["significant"], verdict=r["verdict"]))
        return out

    @property
    def comparisons(self) -> List[Difference]:
        """Every arm after the first against the first, metric by metric, at every point."""
        return self._differences()

    @property
    def knees(self) -> List[Knee]:
        """Per target, arm and value of the other axes: where the target breaks along the
        first axis."""
        out = []
        for k in self._d["knees"]:
            out.append(Knee(
                target=k["target"], arm=k["arm"],
                fixed=tuple(_ron_scalar(v) for v in k["fixed"]),
                breaks_at=None if k["breaks_at"] is None else _ron_scalar(k["breaks_at"]),
                last_holds=None if k["last_holds"] is None else _ron_scalar(k["last_holds"])))
        return out

    # -- DataFrames ---------------------------------------------------------------------

    def _point_columns(self, c: Mapping[str, Any]) -> Dict[str, Any]:
        return {a: _ron_scalar(v) for a, v in zip(self.axes, c["point"])}

    def _select(self, metrics: Union[str, Sequence[str], None]) -> Any:
        if metrics is None:
            return lambda n: True
        if isinstance(metrics, str):
            rx = _glob(metrics)
            return lambda n: bool(rx.match(n))
        wanted = set(metrics)
        return lambda n: n in wanted

    def summary_df(self, metrics: Union[str, Sequence[str], None] = None) -> "pandas.DataFrame":
        """One row per arm, sweep point and metric: ``arm``, one column per sweep axis (its
        path), ``metric``, ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high`` (the 95 %
        interval across replications; NaN with one replication).

        ``metrics`` keeps only some: a list of names, or a pattern where ``*`` stands for
        anything (``"entries[*].availability"``, ``"services[db].*"``)."""
        keep = self._select(metrics)
        rows = []
        for c in self._d["cells"]:
            base = {"arm": c["arm"], **self._point_columns(c)}
            for m in c["metrics"]:
                if keep(m["name"]):
                    e = Estimate._of(m)
                    rows.append({**base, "metric": e.name, "n": e.n, "mean": e.mean,
                                 "sd": e.sd, "ci_low": e.ci_low, "ci_high": e.ci_high})
        return _frame(rows, ["arm", *self.axes, "metric", "n", "mean", "sd", "ci_low",
                             "ci_high"])

    def wide_df(self, metrics: Union[str, Sequence[str]]) -> "pandas.DataFrame":
        """One row per arm and sweep point, the mean of each metric in ``metrics`` as a
        column (and ``<metric> ci_low``, ``<metric> ci_high``): handy to plot a sweep."""
        keep = self._select(metrics)
        rows = []
        for c in self._d["cells"]:
            row = {"arm": c["arm"], **self._point_columns(c)}
            for m in c["metrics"]:
                if keep(m["name"]):
                    e = Estimate._of(m)
                    row[e.name] = e.mean
                    row[f"{e.name} ci_low"] = e.ci_low
                    row[f"{e.name} ci_high"] = e.ci_high
            rows.append(row)
        return _frame(rows, ["arm", *self.axes])

    def comparisons_df(self) -> "pandas.DataFrame":
        """One row per compared arm, sweep point and headline metric: ``arm``,
        ``baseline``, one column per axis, ``metric``, ``baseline_mean``, ``arm_mean``,
        ``difference`` (arm − baseline, paired), ``ci_low``, ``ci_high`` (its 95 %
        interval), ``unpaired_half_width``, ``significant``, ``verdict``."""
        rows = []
        for d in self._differences():
            rows.append({"arm": d.arm, "baseline": d.baseline,
                         **dict(zip(self.axes, d.point)), "metric": d.metric,
                         "baseline_mean": d.baseline_mean, "arm_mean": d.arm_mean,
                         "difference": d.difference.mean, "ci_low": d.difference.ci_low,
                         "ci_high": d.difference.ci_high,
                         "unpaired_half_width": d.unpaired_half_width,
                         "significant": d.significant, "verdict": d.verdict})
        return _frame(rows, ["arm", "baseline", *self.axes, "metric"])

    def latency_df(self) -> "pandas.DataFrame":
        """Pooled latency, one row per arm, sweep point and entry point: ``entry``,
        ``count``, ``mean_ms``, ``p50_ms`` … ``p999_ms``, ``max_ms``."""
        rows = []
        for c in self._d["cells"]:
            for lat in c["latency"]:
                rows.append({"arm": c["arm"], **self._point_columns(c), "entry": lat["entry"],
                             **lat["summary"]})
        return _frame(rows, ["arm", *self.axes, "entry"])

    def runs_df(self, metrics: Union[str, Sequence[str], None] = None) -> "pandas.DataFrame":
        """Every replication's value of every metric (or of ``metrics``, as in
        :meth:`summary_df`): ``arm``, axes, ``rep``, ``seed``, ``metric``, ``value``."""
        keep = self._select(metrics)
        rows = []
        for c in self._d["cells"]:
            base = {"arm": c["arm"], **self._point_columns(c)}
            names = [m["name"] for m in c["metrics"]]
            for r in c["runs"]:
                for name, v in zip(names, r["values"]):
                    if keep(name):
                        rows.append({**base, "rep": r["rep"], "seed": r["seed"],
                                     "metric": name, "value": v})
        return _frame(rows, ["arm", *self.axes, "rep", "seed", "metric", "value"])

    def timeline_df(self) -> "pandas.DataFrame":
        """Availability over time, replications pooled: ``arm``, axes, ``entry``, ``t_s``,
        ``ok``, ``answered``, ``availability`` (NaN in a bucket without answers)."""
        rows = []
        for c in self._d["cells"]:
            for t in c["timeline"]:
                for b, (ok, ans) in enumerate(zip(t["ok"], t["answered"])):
                    rows.append({"arm": c["arm"], **self._point_columns(c),
                                 "entry": t["entry"], "t_s": b * c["bucket_s"], "ok": ok,
                                 "answered": ans,
                                 "availability": ok / ans if ans else float("nan")})
        return _frame(rows, ["arm", *self.axes, "entry", "t_s"])

    def recovery_df(self) -> "pandas.DataFrame":
        """Recovery after the last fault, one row per arm, point and entry point:
        ``measured``, ``collapsed``, ``collapsed_fraction`` with its Wilson interval
        (``collapsed_ci_low``, ``collapsed_ci_high``), and the time to recover of the
        replications that did (``recovery_mean_s``, ``recovery_ci_low``,
        ``recovery_ci_high``)."""
        rows = []
        for c in self._d["cells"]:
            for r in c["recovery"]:
                ci = r["collapsed_ci"] or [float("nan"), float("nan")]
                rec = Estimate._of(r["recovery_s"])
                rows.append({"arm": c["arm"], **self._point_columns(c), "entry": r["entry"],
                             "measured": r["measured"], "collapsed": r["collapsed"],
                             "collapsed_fraction": r["collapsed_fraction"],
                             "collapsed_ci_low": ci[0], "collapsed_ci_high": ci[1],
                             "recovery_mean_s": rec.mean, "recovery_ci_low": rec.ci_low,
                             "recovery_ci_high": rec.ci_high})
        return _frame(rows, ["arm", *self.axes, "entry"])


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


class Model:
    """A validated topology, ready to analyse or run. Immutable: :meth:`with_overrides` and
    :meth:`variant` make new models, checked exactly as a file is.

    Made by :func:`load`, :func:`parse`, :func:`from_dict` or ``Topology(...).build()``."""

    def __init__(self, native: "_native.Model"):
        self._native = native

    @property
    def name(self) -> str:
        """The topology's name."""
        return self._native.name

    @property
    def origin(self) -> str:
        """Where it came from: a path, ``<string>``, ``<dict>``, ``NAME (built)``, with the
        edits of a variant or of overrides."""
        return self._native.origin

    @property
    def source(self) -> str:
        """The RON text it was compiled from."""
        return self._native.source or ""

    @property
    def variants(self) -> List[str]:
        """The names of the variants the topology declares, in order."""
        return self._native.variants

    def variant_edits(self, name: str) -> Dict[str, str]:
        """The edits of variant ``name``: path → value (RON text)."""
        edits = self._native.variant_edits(name)
        if edits is None:
            raise KeyError(f"no variant {name!r}; the variants are: {', '.join(self.variants)}")
        return dict(edits)

    @property
    def services(self) -> List[str]:
        """The names of the services, in file order."""
        return self._native.names()[0]

    @property
    def entries(self) -> List[str]:
        """The names of the entry points, in file order."""
        return self._native.names()[1]

    @property
    def topics(self) -> List[str]:
        """The names of the broker's topics."""
        return self._native.names()[2]

    @property
    def queues(self) -> List[str]:
        """The names of the broker's work queues."""
        return self._native.names()[3]

    @property
    def duration_s(self) -> float:
        """The run length the topology gives [s] (warm-up included)."""
        return self._native.run_settings()[0]

    @property
    def warmup_s(self) -> float:
        """The warm-up the topology gives [s]."""
        return self._native.run_settings()[1]

    @property
    def seed(self) -> int:
        """The seed the topology gives."""
        return self._native.run_settings()[2]

    def variant(self, name: str) -> "Model":
        """Variant ``name`` (declared under ``variants:``) as a model of its own."""
        return Model(self._native.variant(name))

    def with_overrides(self, overrides: Union[Mapping[str, Any], Iterable[str]]) -> "Model":
        """A new model: this one with ``overrides`` applied in order and validated as a
        file is, so a bad value gets the message it would get in a file.

        ``overrides`` is a dict ``{path: value}`` or a list of ``"PATH=VALUE"`` strings, with
        the paths of the error messages (``services[api].workers``,
        ``services[api].steps[0].timeout``, ``workload[main].arrivals.per_second``). A value
        is a Python value (``4``, ``0.5``, ``{"max_concurrent": 8}``) or a string as on the
        command line (``"300ms"``, ``"Fail"``, ``'Exp(mean: "2ms")'``).

        >>> fast = model.with_overrides({"services[db].workers": 8})
        """
        return Model(self._native.with_overrides(_edit_list(overrides)))

    def to_dict(self) -> Dict[str, Any]:
        """The topology as nested dicts, fields at their defaults left out: what
        :func:`from_dict` reads back (enum variants as one-key dicts,
        ``{"Exp": {"mean": "2ms"}}``; variants' edits as RON text)."""
        return self._native.spec()

    def to_ron(self) -> str:
        """The topology as RON text (comments not kept)."""
        return self._native.to_ron()

    def analyze(self) -> Analysis:
        """The analytic shadow and lints, without simulating: what ``microsim check``
        prints (shown in Jupyter as that text)."""
        return Analysis(self._native.analysis(), self._native.check_text())

    @overload
    def run(self, *, seed: Optional[int] = ..., duration: Optional[RunDuration] = ...,
            warmup: Optional[RunDuration] = ..., drain: bool = ..., reps: None = ...,
            threads: Optional[int] = ...) -> Report: ...

    @overload
    def run(self, *, seed: Optional[int] = ..., duration: Optional[RunDuration] = ...,
            warmup: Optional[RunDuration] = ..., drain: bool = ..., reps: int,
            threads: Optional[int] = ...) -> Experiment: ...

    def run(self, *, seed: Optional[int] = None, duration: Optional[RunDuration] = None,
            warmup: Optional[RunDuration] = None, drain: bool = False,
            reps: Optional[int] = None,
            threads: Optional[int] = None) -> Union[Report, Experiment]:
        """Simulates the model.

        Without ``reps``: one run, with ``seed`` (default: the topology's), returning a
        :class:`Report`. With ``reps=N``: ``N`` independent replications (their seeds derive
        from ``seed`` as ``microsim run --reps`` derives them), on every core (or
        ``threads``), returning an :class:`Experiment` whose intervals are honest.

        ``duration`` and ``warmup`` override the topology's (``"60s"``, a ``timedelta``, or
        seconds); ``drain`` stops arrivals at the end and runs until every request has
        ended. The GIL is released while it runs. Raises :class:`RunError` if the run stops
        early (an overloaded model hitting its in-flight cap, …)."""
        d = _duration_text(duration, "duration")
        w = _duration_text(warmup, "warmup")
        if reps is None:
            return Report(self._native.run(seed, d, w, drain))
        return _experiment([("base", self)], [], reps, seed, d, w, drain, [], threads,
                           "replications")

    def __repr__(self) -> str:
        n = self._native.names()
        v = f", variants {self.variants}" if self.variants else ""
        return (f"<Model {self.name!r} from {self.origin}: {len(n[0])} services, "
                f"{len(n[1])} entry points{v}>")

    def _repr_html_(self) -> str:
        return _pre(self._native.check_text())


# --------------------------------------------------------------------------------------
# compare and sweep
# --------------------------------------------------------------------------------------

Models = Union[Model, Sequence[Model], Mapping[str, Model]]
Variants = Union[Sequence[Union[str, Tuple[str, Mapping[str, Any]]]], Mapping[str, Mapping[str, Any]]]


def _arms(models: Models, variants: Optional[Variants], all_variants: bool
          ) -> List[Tuple[str, Model]]:
    """The arms: (name, model) pairs, the baseline first."""
    if isinstance(models, Model):
        base = models
        if variants is None:
            names: List[Any] = list(base.variants) if all_variants else []
        elif isinstance(variants, Mapping):
            names = list(variants.items())
        else:
            names = list(variants)
        arms: List[Tuple[str, Model]] = []
        if "base" not in names:
            arms.append(("base", base))
        for v in names:
            if isinstance(v, str):
                arms.append((v, base if v == "base" else base.variant(v)))
            else:
                name, overrides = v
                arms.append((name, base.with_overrides(overrides)))
        return arms
    if variants is not None:
        raise ValueError("variants= applies to one model; give one model, or models without it")
    if isinstance(models, Mapping):
        return [(str(k), m) for k, m in models.items()]
    arms = []
    for m in models:
        if not isinstance(m, Model):
            raise TypeError(f"{m!r} is not a microsim.Model")
        name, k = m.name, 2
        while any(a == name for a, _ in arms):
            name, k = f"{m.name} #{k}", k + 1
        arms.append((name, m))
    return arms


def _experiment(arms: List[Tuple[str, Model]], axes: List[Tuple[str, List[str]]],
                reps: int, seed: Optional[int], duration: Optional[str], warmup: Optional[str],
                drain: bool, targets: Sequence[str], threads: Optional[int], kind: str,
                recovery_threshold: Optional[float] = None,
                recovery_from: Optional[RunDuration] = None) -> Experiment:
    if not arms:
        raise ValueError("an experiment needs at least one model")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ValueError(f"reps={reps!r}: give a whole number of replications ≥ 1")
    master = arms[0][1].seed if seed is None else seed
    native = _native.run_experiment(
        [(name, m._native) for name, m in arms], axes, reps, master, duration, warmup, drain,
        list(targets), threads or 0, recovery_threshold,
        _duration_text(recovery_from, "recovery_from"))
    return Experiment(native, kind)


def compare(models: Models, variants: Optional[Variants] = None, *, reps: int = 10,
            seed: Optional[int] = None, duration: Optional[RunDuration] = None,
            warmup: Optional[RunDuration] = None, drain: bool = False,
            threads: Optional[int] = None, recovery_threshold: Optional[float] = None,
            recovery_from: Optional[RunDuration] = None) -> Experiment:
    """Compares arms replication by replication with the same seeds (a paired comparison,
    far narrower than comparing two independent estimates), as ``microsim compare`` does.

    ``models`` is one model, whose arms are ``base`` and its variants (all it declares, or
    those ``variants`` names: declared names, ``"base"``, or ``(name, overrides)`` pairs /
    a dict ``{name: overrides}`` of new ones); or several models (a list, arms named by
    the models' names, or a dict ``{arm: model}``). The first arm is the baseline.

    >>> r = microsim.compare(checkout, ["bulkhead", "short-timeout"], reps=10)
    >>> r.comparison("entries[shoppers].availability", arm="bulkhead").significant
    """
    arms = _arms(models, variants, all_variants=True)
    if len(arms) < 2:
        raise ValueError(
            "a comparison needs two arms or more: a model with variants, variants=[…], or "
            "several models")
    return _experiment(arms, [], reps, seed, _duration_text(duration, "duration"),
                       _duration_text(warmup, "warmup"), drain, [], threads, "comparison",
                       recovery_threshold, recovery_from)


def _axis(path: str, values: Any) -> Tuple[str, List[str]]:
    if isinstance(values, str):
        return _native.parse_axis(f"{path}={values}")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(
            f"vary[{path!r}]: give a list or range of values, or a string "
            "'START..END:STEP' / 'V1,V2'") from None
    if not items:
        raise ValueError(f"vary[{path!r}] has no values")
    from .builder import _plain

    return path, [_native.value_to_ron(_plain(v), path) for v in items]


def sweep(models: Models, vary: Mapping[str, Any], *, reps: int = 5,
          targets: Sequence[str] = (), variants: Optional[Variants] = None,
          seed: Optional[int] = None, duration: Optional[RunDuration] = None,
          warmup: Optional[RunDuration] = None, drain: bool = False,
          threads: Optional[int] = None, recovery_threshold: Optional[float] = None,
          recovery_from: Optional[RunDuration] = None) -> Experiment:
    """Sweeps parameters, as ``microsim sweep`` does: every point of ``vary`` (path → values;
    several paths make a grid, the first varying fastest) × every arm × ``reps``
    replications, all points sharing their seeds.

    Values are a list or ``range`` of Python values (``range(100, 1001, 100)``,
    ``["50ms", "100ms"]``, numpy arrays) or a string as on the command line
    (``"100..1000:100"``, ``"50ms..1s:50ms"``, ``"1,2,4"``). ``targets``
    (``"p99<=200ms"``, ``"availability>=0.999"``, ``"services[db].utilization<0.8"``)
    mark where each first breaks along the first axis: :attr:`Experiment.knees`. Arms:
    the model alone, or as in :func:`compare` with ``variants``.

    >>> r = microsim.sweep(mm1, {"workload[main].arrivals.per_second": range(500, 901, 100)},
    ...                    reps=4, targets=["mean<=4ms"])
    >>> r.knees[0].breaks_at
    800
    """
    arms = _arms(models, variants, all_variants=False)
    if not vary:
        raise ValueError("vary= needs at least one path and its values")
    axes = [_axis(p, v) for p, v in vary.items()]
    return _experiment(arms, axes, reps, seed, _duration_text(duration, "duration"),
                       _duration_text(warmup, "warmup"), drain, targets, threads, "sweep",
                       recovery_threshold, recovery_from)

"""Type stubs of ``microsim._native``, the compiled half of the package (Rust, PyO3).

Users call the pure-Python API of ``microsim``; this module only crosses the border:
topologies in as RON text, runs and experiments with the GIL released, results out as
Python objects and the crate's text, SVG and HTML.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

__version__: str

class TopologyError(ValueError):
    """A topology that cannot be loaded: its message is the one the command line prints
    (``file:line: field path: what is wrong; did you mean …``)."""

    #: Each problem: ``path``, ``line`` (1-based, or ``None``), ``message``, ``hint``
    #: (a syntax error also has ``column``).
    problems: List[Dict[str, Any]]
    #: The file (or ``<string>``, ``<dict>``, ``NAME (built)``, with the edits applied).
    origin: str

class RunError(RuntimeError):
    """A run that stopped before its end (the in-flight cap, the Zeno guard, a bad run
    option)."""

def load(path: str) -> Model:
    """Reads, validates and compiles the topology file at ``path``."""

def parse(text: str, origin: str = "<string>") -> Model:
    """Validates and compiles topology ``text``; ``origin`` names it in messages."""

def topology_to_ron(d: Any, origin: str = "<dict>") -> str:
    """The topology ``d`` (nested dicts in the shape of ``Model.spec()``) as RON text."""

def value_to_ron(value: Any, path: str = "") -> str:
    """``value`` as the RON text of an override (a string as on the command line)."""

def parse_axis(text: str) -> Tuple[str, List[str]]:
    """``PATH=START..END:STEP`` or ``PATH=V1,V2`` as (path, RON values)."""

def report_from_json(text: str) -> Report:
    """A report read back from its JSON."""

def run_experiment(
    arms: Sequence[Tuple[str, Model]],
    axes: Sequence[Tuple[str, Sequence[str]]],
    reps: int,
    master_seed: int,
    duration_text: Optional[str] = None,
    warmup: Optional[str] = None,
    drain: bool = False,
    targets: Sequence[str] = ...,
    threads: int = 0,
    recovery_threshold: Optional[float] = None,
    recovery_from: Optional[str] = None,
) -> Experiment:
    """Runs arms × sweep points × ``reps`` replications on ``threads`` threads (0: every
    core) with the GIL released; Ctrl-C stops it between runs (``KeyboardInterrupt``)."""

class Model:
    """A validated, immutable topology."""

    @property
    def name(self) -> str:
        """The topology's name."""
    @property
    def origin(self) -> str:
        """Where it came from."""
    @property
    def source(self) -> Optional[str]:
        """The RON text it was compiled from."""
    @property
    def variants(self) -> List[str]:
        """The variants it declares."""
    def variant_edits(self, name: str) -> Optional[List[Tuple[str, str]]]:
        """The edits of variant ``name`` as (path, RON value)."""
    def names(self) -> Tuple[List[str], List[str], List[str], List[str]]:
        """Services, entry points, topics and queues, by name."""
    def run_settings(self) -> Tuple[float, float, int]:
        """Duration [s], warm-up [s] and seed the file gives."""
    def with_overrides(self, edits: Sequence[Tuple[str, str]]) -> Model:
        """A new model with ``edits`` (path, RON value) applied and validated."""
    def variant(self, name: str) -> Model:
        """Variant ``name`` as a model."""
    def spec(self) -> Dict[str, Any]:
        """The topology as nested dicts."""
    def to_ron(self) -> str:
        """The topology as RON text."""
    def analysis(self) -> Dict[str, Any]:
        """The analytic shadow and lints as nested dicts."""
    def check_text(self) -> str:
        """What ``microsim check`` prints."""
    def run(
        self,
        seed: Optional[int] = None,
        duration: Optional[str] = None,
        warmup: Optional[str] = None,
        drain: bool = False,
    ) -> Report:
        """One run, the GIL released."""

class Report:
    """What one run measured."""

    def to_dict(self) -> Dict[str, Any]:
        """The report as nested dicts (non-finite numbers as floats)."""
    def to_json(self) -> str:
        """The report as ``report.json``."""
    def summary(self) -> str:
        """The terminal summary."""
    def charts(self) -> List[Tuple[str, str, str]]:
        """(file name, title, SVG) of every chart that applies."""
    def html(self) -> str:
        """The self-contained HTML report."""

class Experiment:
    """The result of an experiment."""

    def to_dict(self) -> Dict[str, Any]:
        """The result as nested dicts (non-finite numbers as floats)."""
    def to_json(self) -> str:
        """The result as ``result.json``."""
    def replications_text(self) -> str:
        """What ``microsim run --reps`` prints."""
    def comparison_text(self) -> str:
        """What ``microsim compare`` prints."""
    def sweep_text(self) -> str:
        """What ``microsim sweep`` prints."""
    def csv(self) -> str:
        """The result as CSV."""

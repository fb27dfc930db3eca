"""The README's Python examples run as written (from the root of the clone)."""

import os
import re

import microsim
from conftest import ROOT


def test_every_python_block_of_the_readme_runs():
    text = (ROOT / "python" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        ns = {"microsim": microsim}
        for block in blocks:
            exec(compile(block, "python/README.md", "exec"), ns)  # noqa: S102
    finally:
        os.chdir(here)
    # The quick start's claim: M/M/1 at ρ = 0.8 takes about 5 ms.
    assert abs(ns["report"].entry("clients").latency.mean_ms - 5.0) < 0.75
    assert ns["w"].ci_low < 5.0 < ns["w"].ci_high
    assert ns["cmp"].arms == ["base", "fast-db"]
    p99, avail = ns["swp"].knees
    # The example's knee lies inside the sweep: the target holds at first, then breaks.
    assert p99.last_holds is not None and p99.breaks_at is not None, p99
    assert avail.breaks_at is None, avail

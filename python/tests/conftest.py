"""Shared fixtures: paths into the repository."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGIES = ROOT / "topologies"


@pytest.fixture
def topologies() -> Path:
    """The bundled topologies."""
    return TOPOLOGIES

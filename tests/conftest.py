"""Shared fixtures: the simulator as a real server process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wxo_load.mock.process import SimulatorProcess


@pytest.fixture(scope="session")
def fast_simulator() -> Iterator[SimulatorProcess]:
    """A simulator answering quickly, shared by tests that only need a live server."""
    with SimulatorProcess.start(profile="fast", port=0, seed=7) as sim:
        yield sim

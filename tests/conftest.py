"""Shared fixtures and the test tiers.

The folders are the tiers (docs/contributing.md):

- `tests/unit/`: pure functions and classes, no server process (a few run a short `python -c`
  subprocess where importing Locust would monkey-patch the test process).
- `tests/integration/`: one part against a real server process on a free loopback port (the
  simulator, a raw HTTP server, a token server, a proxy, headless Chromium).
- `tests/e2e/`: Locust itself as a subprocess against the simulator; marked `e2e` and `slow`.

Tests of the first two tiers that wait on a real clock for seconds (token expiry, replayed
captures, stall limits) or start a real browser are marked `slow` where they are defined;
`-m "not slow"` runs the rest.

`tests/helpers/` holds what several tiers share (it is on `sys.path`, see pyproject.toml), and
`tests/data/` the captures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wxo_load.mock.process import SimulatorProcess

TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        tier = Path(item.fspath).resolve().relative_to(here).parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
        if tier == "e2e":
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fast_simulator() -> Iterator[SimulatorProcess]:
    """A simulator answering quickly, shared by tests that only need a live server."""
    with SimulatorProcess.start(profile="fast", port=0, seed=7) as sim:
        yield sim

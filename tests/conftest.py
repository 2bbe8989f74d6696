"""Shared fixtures and the test tiers.

The folders are the tiers (docs/contributing.md):

- `tests/unit/`: pure functions and classes, no server process (a few run a short `python -c`
  subprocess where importing Locust would monkey-patch the test process).
- `tests/integration/`: one part against a real server process on a free loopback port (the
  simulator, a raw HTTP server, a token server, a proxy, headless Chromium).
- `tests/e2e/`: Locust itself as a subprocess against the simulator; marked `e2e` and `slow`.
- `tests/container/`: the image built with podman, run, and the Kubernetes manifests played with
  `podman kube play` (root, podman, debootstrap); marked `container` and `slow`, deselected by
  the README's command (`-m "not container"` in addopts) and run by `.ci/run` as its own step.

Tests of the first two tiers that wait on a real clock for seconds (token expiry, replayed
captures, stall limits) or start a real browser are marked `slow` where they are defined;
`-m "not slow"` runs the rest.

`tests/helpers/` holds what several tiers share (it is on `sys.path`, see pyproject.toml), and
`tests/data/` the captures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from wxo_load.mock.process import SimulatorProcess

TIERS = ("unit", "integration", "e2e", "container")


# -- tests that must run alone when the suite runs on several xdist workers -------------------
#
# The README's command runs the suite on two pytest-xdist workers (pyproject addopts). A test
# marked `alone` (it measures timings or the load generator's own lag, which another test's
# Locust run on the same two cores would disturb) takes an exclusive lock that every other test
# shares, so it runs with no other test beside it: a readers-writer lock across the workers
# (fcntl.flock), with a turnstile so a waiting `alone` test is not starved.

LOCK_DIR_ENV = "WXO_TEST_LOCK_DIR"


@pytest.fixture(autouse=True)
def _alone_or_shared(request: pytest.FixtureRequest) -> Iterator[None]:
    lock_dir = os.environ.get(LOCK_DIR_ENV)
    if not lock_dir:  # one process: every test already runs alone
        yield
        return
    import fcntl

    alone = request.node.get_closest_marker("alone") is not None
    with (
        open(Path(lock_dir) / "turnstile", "a") as turnstile,
        open(Path(lock_dir) / "main", "a") as main,
    ):
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        fcntl.flock(main, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(main, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alone: run with no other test beside it (timing figures)")
    workers = getattr(config.option, "numprocesses", None)
    if workers and not hasattr(config, "workerinput") and LOCK_DIR_ENV not in os.environ:
        import tempfile

        os.environ[LOCK_DIR_ENV] = tempfile.mkdtemp(prefix="wxo-test-locks-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        tier = Path(item.fspath).resolve().relative_to(here).parts[0]
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
        if tier in ("e2e", "container"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def fast_simulator() -> Iterator[SimulatorProcess]:
    """A simulator answering quickly, shared by tests that only need a live server."""
    with SimulatorProcess.start(profile="fast", port=0, seed=7) as sim:
        yield sim


# -- every summary.json the suite produces validates against docs/summary.schema.json ---------

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "docs" / "summary.schema.json"


def _invalid_summaries(base: Path) -> tuple[int, list[str]]:
    """(summaries checked, one line per summary.json under `base` the schema rejects)."""
    import json

    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    checked, invalid = 0, []
    for path in sorted(base.rglob("summary.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a test's deliberately damaged file
        if not isinstance(data, dict) or data.get("schema") != "wxo-load/summary/v2":
            continue  # v1 fixtures and foreign files are the loader's tests, not the writer's
        checked += 1
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            invalid.append(f"{path}: at {where or 'the top'}: {error.message[:200]}")
    return checked, invalid


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller checks every worker's folder at the end
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or factory._basetemp is None:
        return
    checked, invalid = _invalid_summaries(factory.getbasetemp())
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"summary.json files validated against {SCHEMA_FILE.name}: {checked}")
        for line in invalid:
            reporter.write_line(f"INVALID {line}", red=True)
    if invalid:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

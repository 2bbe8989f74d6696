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
from typing import IO

import pytest

from wxo_load.mock.process import SimulatorProcess

TIERS = ("unit", "integration", "e2e", "container")


# -- tests that must run alone when the suite runs on several xdist workers -------------------
#
# The README's command runs the suite on four pytest-xdist workers (pyproject addopts). A test
# marked `alone` (it measures timings or the load generator's own lag, which another test's
# Locust run on the same two cores would disturb) takes an exclusive lock that every other test
# shares, so it runs with no other test beside it: a readers-writer lock across the workers
# (fcntl.flock), with a turnstile so a waiting `alone` test is not starved.
#
# Taking the exclusive lock waits for every running test to end (up to a minute of three idle
# workers), so the `alone` tests run as one block: all of them go to one worker, one after the
# other (the xdist group `alone`, `--dist loadgroup` in addopts), and the lock is kept from one
# to the next, so the other workers drain once for the whole block instead of once per test.
# The `alone` tests all go to one worker, one after the other: a scheduler of xdist's own kind
# (LoadScopeScheduling) that gives them one scope and every other test a scope of its own; each
# worker writes the ids of the `alone` tests it collected to the lock folder, for the scheduler.
# (xdist's `--dist loadgroup` would do it, but it renames items in a way pytest 9 ignores.)

LOCK_DIR_ENV = "WXO_TEST_LOCK_DIR"
ALONE_IDS = "alone-ids"


class _Locks:
    """This worker's open lock files and whether it holds the exclusive lock between tests."""

    turnstile: IO[str] | None = None
    main: IO[str] | None = None
    held_alone = False


def _open_locks(lock_dir: str) -> tuple[IO[str], IO[str]]:
    if _Locks.turnstile is None or _Locks.main is None:
        _Locks.turnstile = open(Path(lock_dir) / "turnstile", "a")  # noqa: SIM115 (kept open)
        _Locks.main = open(Path(lock_dir) / "main", "a")  # noqa: SIM115
    return _Locks.turnstile, _Locks.main


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    item.stash[_NEXT_ALONE] = nextitem is not None and _is_alone(nextitem)
    yield


def _is_alone(item: pytest.Item) -> bool:
    return item.get_closest_marker("alone") is not None


_NEXT_ALONE = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _alone_or_shared(request: pytest.FixtureRequest) -> Iterator[None]:
    lock_dir = os.environ.get(LOCK_DIR_ENV)
    if not lock_dir:  # one process: every test already runs alone
        yield
        return
    import fcntl

    alone = _is_alone(request.node)
    turnstile, main = _open_locks(lock_dir)
    if not (alone and _Locks.held_alone):  # (the block's next test keeps the lock it holds)
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        if not alone:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        fcntl.flock(main, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
    try:
        yield
    finally:
        if alone and request.node.stash.get(_NEXT_ALONE, False):
            _Locks.held_alone = True  # the next test on this worker is alone too: keep the lock
        else:
            _Locks.held_alone = False
            fcntl.flock(main, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "alone: run with no other test beside it (timing figures)")
    workers = getattr(config.option, "numprocesses", None)
    if workers and not hasattr(config, "workerinput") and LOCK_DIR_ENV not in os.environ:
        import tempfile

        os.environ[LOCK_DIR_ENV] = tempfile.mkdtemp(prefix="wxo-test-locks-")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    ids_file = Path(os.environ[LOCK_DIR_ENV]) / ALONE_IDS

    class AloneInOneBlock(LoadScopeScheduling):  # type: ignore[misc]
        alone: frozenset[str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.alone is None:  # (every worker has collected when the scheduling starts)
                ids = ids_file.read_text() if ids_file.exists() else ""  # (none collected)
                self.alone = frozenset(ids.splitlines())
            return "alone" if nodeid in self.alone else nodeid

    return AloneInOneBlock(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lock_dir = os.environ.get(LOCK_DIR_ENV)
    if lock_dir and hasattr(config, "workerinput"):  # for the scheduler: see above
        tmp = Path(lock_dir) / f"{ALONE_IDS}.{os.getpid()}"
        tmp.write_text("".join(f"{item.nodeid}\n" for item in items if _is_alone(item)))
        tmp.replace(Path(lock_dir) / ALONE_IDS)
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

"""locust_plugin/heartbeat.py and the master's count of missing workers (handoff.note_workers),
with stand-ins for Locust's modules and runner (no import of locust, which would monkey-patch
this process)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from wxo_load.locust_plugin import handoff
from wxo_load.locust_plugin.heartbeat import (
    DEFAULT_LIVENESS_S,
    apply_liveness,
    liveness,
    memoize_default_args,
)
from wxo_load.locust_plugin.state import TestState


def test_the_liveness_is_the_option_or_ten_seconds_and_reaches_locusts_runners() -> None:
    runners = SimpleNamespace(HEARTBEAT_LIVENESS=3)  # Locust's own
    assert apply_liveness(runners, SimpleNamespace(heartbeat_liveness=None)) == 10
    assert runners.HEARTBEAT_LIVENESS == DEFAULT_LIVENESS_S == 10
    assert apply_liveness(runners, SimpleNamespace(heartbeat_liveness=30)) == 30
    assert runners.HEARTBEAT_LIVENESS == 30
    with pytest.raises(ValueError, match="--heartbeat-liveness 0: give the seconds"):
        liveness(SimpleNamespace(heartbeat_liveness=0))


def test_locusts_default_arguments_are_built_once_and_each_caller_gets_a_copy() -> None:
    built: list[int] = []

    def default_args_dict() -> dict[str, Any]:
        built.append(1)
        return {"host": None, "users": 1}

    module = SimpleNamespace(default_args_dict=default_args_dict)
    memoize_default_args(module)
    memoize_default_args(module)  # a second import of the plugin wraps nothing twice
    first = module.default_args_dict()
    first["changed"] = True
    assert all("host" in module.default_args_dict() for _ in range(87))
    assert module.default_args_dict() == {"host": None, "users": 1}
    assert len(built) == 1


def test_a_worker_marked_missing_that_heartbeats_again_is_awaited_and_not_lost() -> None:
    test = TestState.for_process(local=False)
    w0, w1 = SimpleNamespace(id="w0", state="running"), SimpleNamespace(id="w1", state="missing")
    runner = SimpleNamespace(clients=SimpleNamespace(all=[w0, w1]))
    handoff.note_workers(runner, test, "missing")
    assert handoff.lost_workers(test) == ["w1"]  # starved or dead: not known yet
    w1.state = "running"  # its heartbeats came again
    handoff.note_workers(runner, test, "missing")
    assert test.workers_missing == set() and handoff.lost_workers(test) == []
    test.finals_awaited, test.finals = True, {"w0", "w1"}  # both final reports came
    assert handoff.workers_summary(test, True) == {"seen": 2, "lost": 0, "lost_ids": []}

"""Workers' heartbeats on a loaded node: the master's patience, and a stall removed from Locust.

A worker sends its master a heartbeat every second from a greenlet; the master counts a worker
missing when it has heard none for Locust's `HEARTBEAT_LIVENESS` (3) checks a second apart,
takes its users away, and wxo-load counts it lost unless it comes back. A heartbeat greenlet
runs only when the worker's event loop is free, so a worker that holds its loop for 4 s or more
is "missing" while it is healthy. Seen here at load average 14 to 18 on 2 cores (a `--processes
2` test beside 14 busy loops, and about one `podman kube play` rehearsal in eight): one loop
held for 6.5 s while the worker handled the master's spawn message, a heartbeat gap of 8.3 s at
the master, the worker marked missing and its users handed to the other worker.

Two remedies, both applied at `init`:

- `--heartbeat-liveness N` (default `DEFAULT_LIVENESS_S`): the checks the master waits before it
  counts a worker missing, set as Locust's maintainers advise (`locust.runners.
  HEARTBEAT_LIVENESS`; Locust has no option for it). A dead worker is then noticed after about
  N + 1 seconds instead of 4, and its users moved to the others only then.
- Locust's worker, for every spawn message, builds Locust's whole argument parser once per
  option the master sent (`default_args_dict()` inside a comprehension's condition, locust
  2.47 `runners.py`): 87 parser builds, 96 ms of CPU per spawn message here (0.2 ms when
  built once), which at load 14 stretches to seconds of wall time with the loop held.
  `memoize_default_args` makes it one build per process (the defaults of Locust's own options
  never change within a process; each call gets its own copy).

Pure apart from the Locust module objects passed in (this module imports no locust).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

DEFAULT_LIVENESS_S = 10
"""Seconds without a heartbeat before the master counts a worker missing (Locust's: 3)."""


def liveness(options: Any) -> int:
    """--heartbeat-liveness, at least 1 (a bad value says what to do)."""
    value = getattr(options, "heartbeat_liveness", None)
    seconds = DEFAULT_LIVENESS_S if value is None else int(value)
    if seconds < 1:
        raise ValueError(
            f"--heartbeat-liveness {value}: give the seconds without a heartbeat after which "
            f"the master counts a worker missing, 1 or more (default {DEFAULT_LIVENESS_S})"
        )
    return seconds


def apply_liveness(runners: Any, options: Any) -> int:
    """On the master: Locust's HEARTBEAT_LIVENESS (`runners`: the locust.runners module) from
    --heartbeat-liveness; returns it."""
    seconds = liveness(options)
    runners.HEARTBEAT_LIVENESS = seconds  # read by the master at each heartbeat and check
    return seconds


def memoize_default_args(argument_parser: Any) -> None:
    """Locust's `default_args_dict` (of the locust.argument_parser module) built once per
    process, a copy handed to each caller."""
    original: Callable[[], dict[str, Any]] = argument_parser.default_args_dict
    if getattr(original, "wxo_load_memoized", False):
        return
    once = functools.cache(original)

    def default_args_dict() -> dict[str, Any]:
        return dict(once())

    default_args_dict.wxo_load_memoized = True  # type: ignore[attr-defined]
    argument_parser.default_args_dict = default_args_dict

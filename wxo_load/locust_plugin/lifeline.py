"""A worker that has lost its master ends itself, quickly, with its own exit code.

Locust's worker waits 60 s without a heartbeat from its master before it quits (and exits 0), and
`--processes N`'s master does not reliably end the workers it forked when it exits early (its
exit handler takes a running child for an ended one): a bad scenario left two orphans holding
the caller's pipes for a minute. So every worker runs one greenlet, `watch`, that every
`WATCH_INTERVAL_S` checks two things:

- a worker forked by `--processes` (its launcher is the process that imported this module before
  Locust forked): is its parent still that process? If not, the master is gone: lost if this
  worker was in a test (exit code 4); if not (a master that failed before its test, or that
  ended while this worker was waiting out the stop timeout, its quit message unread), the worker
  ends quietly with 0;
- any worker: has a heartbeat answer come from the master in the last `--master-timeout`
  seconds, plus the stop timeout (Locust's worker reads no message while it waits that out after
  a stop)? Locust's master answers each worker heartbeat, sent every second, and counts a worker
  missing after 3 unanswered; the default 10 s leaves room for a master busy writing results.

The watch starts at Locust's `init` event, which a worker fires only once it has connected to
its master; Locust's worker waits for that connection 5 s per try, 60 tries. A `--processes`
master that fails at its own `init` (a bad scenario, a busy --metrics-port) can exit before its
workers have connected: on a loaded machine they then waited out those tries, holding the
caller's pipes (seen: 300 s). So a forked worker also watches its parent from the moment of the
fork (`_watch_from_fork`, registered with `os.register_at_fork` at import, in the launcher): if
the parent is gone before `start_watch` takes over, the worker was in no test and has nothing to
hand over, so it says so and exits 0 at once.

Why a greenlet that compares `os.getppid()` rather than `prctl(PR_SET_PDEATHSIG)`: the signal is
Linux only (`--processes` also runs on macOS), it fires when the forking *thread* ends rather than
the process, and it would end the worker through Locust's SIGTERM path with Locust's exit code,
without saying why. The greenlet handles both causes (parent gone, heartbeats gone) in one place,
says so in one log line, and exits with `ExitCode.MASTER_LOST` (4). It costs two system calls a
second; it needs the worker's event loop to run, which is also what any worker needs to work.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import gevent

from wxo_load.core.errors import ExitCode

log = logging.getLogger("wxo_load")

LAUNCHER_PID = os.getpid()  # imported with the locustfile, before `--processes` forks
WATCH_INTERVAL_S = 0.5
MASTER_TIMEOUT_S = 10.0
HARD_EXIT_S = 5.0  # the orderly quit did not end the process: end it anyway


PARENT_GONE = "process {pid}, which forked it with --processes, is gone"
_watching: list[bool] = []  # set once `start_watch` has run in this process


def lost_reason(
    forked: bool,
    launcher_pid: int,
    parent_pid: int,
    last_heartbeat: float | None,
    now: float,
    timeout_s: float,
) -> str | None:
    """Why this worker has lost its master, or None while it has not (pure)."""
    if forked and parent_pid != launcher_pid:
        return PARENT_GONE.format(pid=launcher_pid)
    if last_heartbeat is not None and timeout_s > 0 and now - last_heartbeat > timeout_s:
        return f"no heartbeat from the master for {now - last_heartbeat:.0f} s"
    return None


def start_watch(environment: Any, mid_test: tuple[str, ...]) -> gevent.Greenlet:
    """On a worker, at init: watch for the loss of the master (module docstring). `mid_test`:
    Locust's runner states of a test under way (passed in: this module imports no locust, so
    its pure part can be tested without Locust patching the test process)."""
    _watching.append(True)
    options = environment.parsed_options
    forked = bool(getattr(options, "processes", None))
    timeout_s = float(getattr(options, "master_timeout", MASTER_TIMEOUT_S) or 0)
    return gevent.spawn(_watch, environment, forked, timeout_s, mid_test)


def _after_fork_in_child() -> None:
    """In a process forked from the launcher (Locust's `--processes`): watch the parent from
    now on, before Locust connects to it and fires `init` (module docstring)."""
    if os.getppid() == LAUNCHER_PID:
        gevent.spawn(_watch_from_fork)


def _watch_from_fork() -> None:
    while not _watching:
        if os.getppid() != LAUNCHER_PID:
            log.info("wxo-load: the master ended before this worker started; it ends too")
            _hard_exit(int(ExitCode.PASSED))
        gevent.sleep(WATCH_INTERVAL_S)


os.register_at_fork(after_in_child=_after_fork_in_child)


def _watch(environment: Any, forked: bool, timeout_s: float, mid_test: tuple[str, ...]) -> None:
    runner = environment.runner
    while True:
        gevent.sleep(WATCH_INTERVAL_S)
        # a worker answers nothing while it waits out the stop timeout after a stop (Locust's
        # worker loop sleeps then), heartbeats included: that wait is not a silent master
        limit_s = timeout_s + float(environment.stop_timeout or 0) if timeout_s > 0 else 0.0
        reason = lost_reason(
            forked,
            LAUNCHER_PID,
            os.getppid(),
            getattr(runner, "last_heartbeat_timestamp", None),
            time.time(),
            limit_s,
        )
        if reason is None:
            continue
        if reason == PARENT_GONE.format(pid=LAUNCHER_PID) and runner.state not in mid_test:
            end_worker(environment, None)  # the master ended after its test: nothing is lost
        else:
            end_worker(environment, reason)
        return


def end_worker(environment: Any, reason: str | None) -> None:
    """One log line, then quit at once (no stop timeout: nobody is left to take the results);
    exit code `ExitCode.MASTER_LOST` when the master was lost (`reason`), 0 when it ended
    between tests. If the orderly quit does not end the process, it exits anyway."""
    if reason is None:
        code = int(ExitCode.PASSED)
        log.info("wxo-load: the master has ended; this worker ends too")
    else:
        code = int(ExitCode.MASTER_LOST)
        log.error("wxo-load: this worker lost its master (%s): exiting with code %d", reason, code)
    environment.process_exit_code = code
    environment.stop_timeout = 0
    gevent.spawn_later(HARD_EXIT_S, _hard_exit, code)
    gevent.spawn(environment.runner.quit)


def _hard_exit(code: int) -> None:
    sys.stderr.flush()
    os._exit(code)

"""End to end: however a `--processes` master ends, its workers end with it (issue #24), and a
worker started on its own that loses its master says so and exits with code 4.

Each test runs Locust under `subprocess.run(capture_output=True)` (or Popen with pipes), as a CI
step would: the call returns only when every process holding the pipes has ended, so a worker
left behind shows as a slow return, and the process listing 2 s later shows it by name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from locust_runs import (
    RUNS_2_TO_6_S,
    run_locust,
    start_locust,
    start_worker,
    write_scenario,
)
from net import free_port, wait_until
from process_tree import left_behind, living, tree

from wxo_load.core.errors import ExitCode
from wxo_load.mock.process import SimulatorProcess

pytestmark = [pytest.mark.slow, pytest.mark.alone]  # timings: run with no other test beside it


def _has_runs(results: Path) -> bool:
    runs = results / "runs.jsonl"
    return runs.exists() and runs.stat().st_size > 0


def _processes(port: int) -> list[str]:
    return ["--processes", "2", "--master-bind-port", str(port), "--master-port", str(port)]


BAD_SCENARIO = "name: bad\nagent_id: a\nprompts: [hi]\nload:\n  stages: [{users: 5}]\n"
GOOD_SCENARIO = "name: good\nagent_id: a\nprompts: [hi]\n"


# A worker that waits for a master that has gone holds the caller's pipes for at least one of
# Locust's connect tries (5 s each, 60 of them) or its heartbeat wait (--master-timeout, 10 s);
# a worker that ends with its master closes them within its lifeline's half-second look and its
# own exit. So the bound counts from the master's exit (not from the start: a loaded machine
# takes its time to import Locust and fork), and a failure costs more than it.
WORKER_WAIT_S = 5.0


@pytest.mark.parametrize(
    ("text", "extra", "said"),
    [
        (BAD_SCENARIO, [], "load.stages[0].duration"),
        (GOOD_SCENARIO, ["--metrics-port", "BUSY"], "cannot listen on"),
    ],
    ids=["bad-scenario", "busy-metrics-port"],
)
def test_a_processes_2_master_that_cannot_start_exits_2_and_its_workers_end_with_it(
    tmp_path: Path,
    text: str,
    extra: list[str],
    said: str,
    record_property: Callable[[str, object], None],
) -> None:
    scenario = write_scenario(tmp_path / "s.yaml", text)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        args = ["--headless", "--only-summary", "--scenario", str(scenario)]
        args += [*_processes(free_port()), *(port if a == "BUSY" else a for a in extra)]
        proc = start_locust(*args, home=tmp_path)
        try:
            proc.wait(timeout=60)  # the master; its output is a few lines, the pipes hold them
            master_ended = time.monotonic()
            _, stderr = proc.communicate(timeout=60)  # returns once no worker holds the pipes
            after_s = time.monotonic() - master_ended
        finally:
            proc.kill()
    record_property("pipes_closed_after_master_exit_s", round(after_s, 2))  # in --junitxml
    assert proc.returncode == 2, stderr[-3000:]
    assert said in stderr, stderr[-3000:]
    assert after_s < WORKER_WAIT_S, f"the workers held the pipes {after_s:.1f} s\n{stderr[-3000:]}"
    assert left_behind(str(tmp_path)) == []


def test_a_401_that_stops_a_processes_2_test_leaves_no_process(tmp_path: Path) -> None:
    with SimulatorProcess.start(profile="fast", port=0, seed=7) as sim:
        host = f"{sim.url}/instances/needs-a-token"  # no login there, and chat needs a token
        args = ["-u", "2", "-r", "2", "-t", "30s", "--host", host,
                "--results-dir", str(tmp_path / "r"), *_processes(free_port())]  # fmt: skip
        started = time.monotonic()
        done = run_locust(args, home=tmp_path, timeout_s=60)
        elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr[-3000:]
    assert "refused a request sent without a token (HTTP 401)" in done.stderr
    assert elapsed < 20, f"{elapsed:.1f} s\n{done.stderr[-3000:]}"  # at the first 401, not -t
    assert left_behind(str(tmp_path)) == []


def _signal_mid_test(
    tmp_path: Path, signum: int, group: bool = False
) -> tuple[str, float, list[int]]:
    """A --processes 2 test of runs taking 2-6 s, sent `signum` once runs are in (`group`: to
    its whole process group, as a terminal's Ctrl+C): its output, how long it took to end after
    the signal, and its process tree before the signal."""
    profile = write_scenario(tmp_path / "runs-2-6s.yaml", RUNS_2_TO_6_S)
    scenario = write_scenario(
        tmp_path / "s.yaml",
        f"name: mid\nagent_id: a\nprompts: [hi]\nsimulator: {{profile: {profile}}}\n"
        "load: {users: 4, spawn_rate: 4, run_time: 180s}\n",  # the signal ends it
    )
    results = tmp_path / "r"
    proc = start_locust(
        "--headless", "--scenario", str(scenario), "--results-dir", str(results),
        *_processes(free_port()), home=tmp_path, new_group=group,
    )  # fmt: skip
    try:
        # generous: on a loaded machine (load average 15-17 on 2 cores) start-up and the first
        # 2-6 s run have taken over 60 s; the signal comes only once runs are in
        wait_until(lambda: len(tree(proc.pid)) >= 4, timeout_s=90)  # master, 2 workers, simulator
        wait_until(lambda: _has_runs(results), timeout_s=90)
        pids = tree(proc.pid)
        started = time.monotonic()
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)  # returns once no process holds the pipes
        return stderr, time.monotonic() - started, pids
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        proc.kill()  # the workers follow within a second (lifeline.py), closing the pipes
        _, stderr = proc.communicate(timeout=30)
        (tmp_path / "output.txt").write_text(stderr)  # all of it, for bench/signal_repeat.py
        raise AssertionError(f"{exc}; the master's output:\n{stderr[-4000:]}") from exc
    finally:
        proc.kill()


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["sigterm", "sigint", "ctrl-c-to-the-group"],
)
def test_a_signal_to_a_processes_2_master_mid_test_writes_results_and_ends_every_process(
    tmp_path: Path, signum: int, group: bool
) -> None:
    stderr, elapsed, pids = _signal_mid_test(tmp_path, signum, group)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["runs"]["total"] > 0, stderr[-3000:]
    assert summary["workers"]["lost"] == 0, stderr[-3000:]  # every final report came
    # the users are stopped first (stop timeout 0: runs in flight are recorded as stopped)
    assert elapsed < 15, f"{elapsed:.1f} s\n{stderr[-3000:]}"
    assert "lost its master" not in stderr  # the master's quit message ended them
    assert left_behind(str(tmp_path), tuple(pids)) == []


def test_a_worker_on_its_own_that_loses_its_master_says_so_and_exits_4(tmp_path: Path) -> None:
    port = free_port()
    master = start_locust(
        "--headless", "-u", "2", "-r", "2", "-t", "60s", "--master", "--expect-workers", "1",
        "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
        "--results-dir", str(tmp_path / "r"), home=tmp_path,
    )  # fmt: skip
    worker = start_worker(port, "--master-timeout", "3", home=tmp_path)
    try:
        wait_until(lambda: _has_runs(tmp_path / "r"), timeout_s=40)
        master.kill()  # SIGKILL: no quit message, no goodbye
        master.communicate(timeout=10)
        started = time.monotonic()
        output, _ = worker.communicate(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        master.kill()
        worker.kill()
    assert worker.returncode == ExitCode.MASTER_LOST, output[-3000:]
    lines = [line for line in output.splitlines() if "lost its master" in line]
    assert len(lines) == 1 and "no heartbeat from the master" in lines[0], output[-3000:]
    assert elapsed < 3 + 6, f"{elapsed:.1f} s\n{output[-3000:]}"  # --master-timeout 3 + margin
    assert living([worker.pid]) == []


def test_processes_2_workers_whose_master_is_killed_mid_test_say_so_and_end_within_seconds(
    tmp_path: Path,
) -> None:
    stderr, elapsed, pids = _signal_mid_test(tmp_path, signal.SIGKILL)  # no goodbye
    lines = [line for line in stderr.splitlines() if "lost its master" in line]
    assert len(lines) == 2 and all("which forked it with --processes" in x for x in lines), stderr
    assert elapsed < 6, f"{elapsed:.1f} s\n{stderr[-3000:]}"
    assert left_behind(str(tmp_path), tuple(pids)) == []  # the simulator ends by itself too

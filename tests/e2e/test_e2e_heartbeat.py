"""End to end: a worker whose event loop is held for a few seconds (here: the whole process
stopped with SIGSTOP for 6 s, the extreme of a worker starved on a saturated node) is not
counted missing or lost under the default --heartbeat-liveness (10 s); with Locust's own 3 it
was, after about 4 s. Every run it measured reaches the results: they equal what the simulator
served."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from locust_runs import REPO, clean_env, locust_cmd, read_jsonl
from net import free_port, wait_until

from wxo_load.mock.process import SimulatorProcess

ANY_TOKEN = "e2e-any-token-7f3a"
USERS, RUN_TIME_S, HELD_S = 4, 12, 6.0


def _start(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        locust_cmd(*args), cwd=REPO, env=clean_env(home, WXO_TOKEN=ANY_TOKEN),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.slow
def test_a_worker_held_for_6_s_is_neither_missing_nor_lost(tmp_path: Path) -> None:
    results, port = tmp_path / "results", str(free_port())
    with SimulatorProcess.start(
        profile="fast", port=0, seed=5, extra_args=["--accept-any-token"]
    ) as sim:
        master = _start(
            tmp_path, "--master", "--headless", "--only-summary", "--expect-workers", "2",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
            "-u", str(USERS), "-r", str(USERS), "-t", f"{RUN_TIME_S}s", "--stop-timeout", "3",
            "--host", sim.url, "--results-dir", str(results), "--gate", "workers.lost == 0",
        )  # fmt: skip
        worker_args = ("--worker", "--master-host", "127.0.0.1", "--master-port", port)
        workers = [_start(tmp_path, *worker_args) for _ in range(2)]
        try:
            wait_until(lambda: sim.stats()["runs_completed"] >= USERS, timeout_s=40)
            workers[1].send_signal(signal.SIGSTOP)  # no heartbeat, no report, nothing
            time.sleep(HELD_S)  # the stimulus: how long the worker is held
            workers[1].send_signal(signal.SIGCONT)
            out, _ = master.communicate(timeout=RUN_TIME_S + 60)
            served = sim.stats()["runs_completed"]
        finally:
            for proc in (master, *workers):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGCONT)
                    proc.kill()
                proc.communicate(timeout=30)
    assert master.returncode == 0, out[-3000:]
    assert "setting state to missing" not in out and "stopped sending heartbeats" not in out
    summary = json.loads((results / "summary.json").read_text())
    assert summary["workers"] == {"seen": 2, "lost": 0, "lost_ids": []}
    runs = read_jsonl(results / "runs.jsonl")
    assert len({r["worker"] for r in runs}) == 2
    assert served == sum(1 for r in runs if r["outcome"] != "stopped")  # every run counted
    assert "Traceback" not in out
